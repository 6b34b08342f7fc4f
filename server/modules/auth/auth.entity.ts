import { Community } from '../community/community.entity';
import { Column, CreateDateColumn, Entity, ForeignKey, PrimaryGeneratedColumn } from 'typeorm';

/** An API token. Only a SHA-256 hash of the secret is kept; the secret is shown once, at creation. */
@Entity()
export class ApiToken {

  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Column({ type: 'varchar', length: 12 })
  role: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string | null;

  @Column({ type: 'char', length: 64, unique: true })
  tokenHash: string;

  /** First characters of the token, so a person can tell tokens apart in listings. */
  @Column({ type: 'varchar', length: 12 })
  prefix: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
