import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** What a database holds: the demo generator's data or one authority's real data, never both. */
export enum HubMode {
  DEMO = 'DEMO',
  REAL = 'REAL',
}

/**
 * One row: written by the demo seed (DEMO) or by the first import or the Finance bootstrap (REAL). Imports are
 * refused in a DEMO database; a hub configured for another authority than the recorded one refuses to start.
 */
@Entity()
@Check('"id"')
@Check(`"mode" IN ('DEMO', 'REAL')`)
export class HubInstance {
  /** Always true: the table holds at most one row. */
  @PrimaryColumn({ type: 'boolean', default: true })
  id: boolean;

  @Column({ type: 'varchar', length: 4 })
  mode: HubMode;

  /** DfE LA code of the authority whose data this is. */
  @Column({ type: 'integer' })
  laCode: number;

  @Column({ type: 'varchar', length: 120 })
  laName: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
