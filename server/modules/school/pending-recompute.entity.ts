import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateColumn } from '../../common/columns';
import { Community } from '../community/community.entity';
import { FundingTerm } from '../period/period.entity';
import { School } from './school.entity';

/**
 * A (community, term) whose pot and shares still count a school that has left it: written by the data migration
 * for schools closed before closures ended memberships (RecordPendingClosureRecomputes), and removed by the
 * recompute that covers it (pending-recompute.ts, run by every hub at start-up, or any recompute from the close
 * date or earlier). While a row is here dataStatus reports it; lastError says why the last attempt was refused.
 */
@Entity()
@Index(['schoolUrn', 'communityCode', 'termCode'], { unique: true })
export class PendingRecompute {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string;

  @Column({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  /** The school's close date: the recompute runs from it, as a closure's does. */
  @DateColumn()
  closeDate: string;

  @Column({ type: 'varchar', length: 200 })
  reason: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  recordedAt: Date;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;
}
