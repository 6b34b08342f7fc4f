import { enumCheck } from '../../common/columns';
import { School } from '../school/school.entity';
import { EarlyYearsSetting } from '../early-years/early-years.entity';
import { District } from '../geography/geography.entity';
import { SchoolTerm } from '../period/period.entity';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export enum WorkerRole {
  LINK_WORKER = 'LINK_WORKER',
  SIPS_PRACTITIONER = 'SIPS_PRACTITIONER',
  EHCP_CASE_OFFICER = 'EHCP_CASE_OFFICER',
}
registerEnumType(WorkerRole, { name: 'WorkerRole', description: 'Role of an LA worker who holds a caseload.' });

export enum CaseloadKind {
  LINK_WORKER_SCHOOLS = 'LINK_WORKER_SCHOOLS',
  LINK_WORKER_SETTINGS = 'LINK_WORKER_SETTINGS',
  SIPS_CHILDREN = 'SIPS_CHILDREN',
  EHCP_PLANS = 'EHCP_PLANS',
  EYPRG_REFERRALS = 'EYPRG_REFERRALS',
}
registerEnumType(CaseloadKind, {
  name: 'CaseloadKind',
  description:
    'What is counted: schools or early years settings per link worker, children supported per SIPS practitioner, ' +
    'EHCPs per case officer, referrals to the Early Years Professional Resource Group per district meeting.',
});

/** Counts that are about children and so fall under statistical disclosure control. */
export const CHILD_COUNT_KINDS: ReadonlySet<CaseloadKind> = new Set([
  CaseloadKind.SIPS_CHILDREN,
  CaseloadKind.EHCP_PLANS,
  CaseloadKind.EYPRG_REFERRALS,
]);

@ObjectType({ description: 'An LA worker holding a caseload, identified by a pseudonymous code (no personal data).' })
@Entity()
export class CaseloadWorker {
  @Field(() => String, { description: 'Worker code, e.g. "LW-017".' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  code: string;

  @Field(() => WorkerRole, { description: 'Role.' })
  @Column({ type: 'varchar', length: 20 })
  role: WorkerRole;

  @Field(() => String, { description: 'Team or patch name.' })
  @Column({ type: 'varchar', length: 80 })
  team: string;

  @Field(() => String, { description: 'Area code.' })
  @Column({ type: 'varchar', length: 16 })
  areaCode: string;
}

/**
 * One caseload cell at the finest grain the hub keeps: a count for a worker, a school or setting (or a
 * district for Resource Group referrals), in a school term. The hub holds counts, never a child.
 */
@Entity()
@Index(['kind', 'periodCode'])
@Index(['schoolUrn', 'periodCode'])
@Check('"count" >= 0')
@Check(enumCheck('kind', CaseloadKind))
export class CaseloadCount {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 24 })
  kind: CaseloadKind;

  /** The LA's school term (e.g. "2025/26-T1"). */
  @Column({ type: 'varchar', length: 12 })
  @ForeignKey(() => SchoolTerm, { onDelete: 'RESTRICT' })
  periodCode: string;

  @Column({ type: 'varchar', length: 12, nullable: true })
  @ForeignKey(() => CaseloadWorker, { onDelete: 'RESTRICT' })
  workerCode: string | null;

  @Column({ type: 'integer', nullable: true })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number | null;

  @Column({ type: 'varchar', length: 12, nullable: true })
  @ForeignKey(() => EarlyYearsSetting, { onDelete: 'RESTRICT' })
  settingUrn: string | null;

  @Column({ type: 'varchar', length: 9 })
  @ForeignKey(() => District, { onDelete: 'RESTRICT' })
  districtCode: string;

  @Column({ type: 'integer' })
  count: number;
}
