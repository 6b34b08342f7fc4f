/**
 * The drivers of element 3 outside mainstream and the block's income: figures of record, each row carrying
 * its provenance (the shared contract: source_kind COMPUTED | IMPORTED | MANUAL, file, who, when, parameter version).
 */
import { Check, Column, Entity, PrimaryColumn, ForeignKey } from 'typeorm';
import { enumCheck, MoneyColumn } from '../../common/columns';
import { SOURCE_KIND_CHECK, WithTextProvenance } from '../../common/provenance';
import { School } from '../school/school.entity';
import { AcademicYear, FinancialYear, FundingTerm } from '../period/period.entity';
import { PLACE_TYPES, PLACEMENT_KINDS, TOP_UP_SETTINGS } from './model';

const asEnum = (values: readonly string[]) => Object.fromEntries(values.map((v) => [v, v]));

/** High-needs place numbers per institution and academic year (the DfE's place-numbers list). */
@Entity()
@Check(enumCheck('place_type', asEnum(PLACE_TYPES)))
@Check(SOURCE_KIND_CHECK)
@Check('"places" >= 0')
export class PlaceNumber extends WithTextProvenance {
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => AcademicYear, { onDelete: 'RESTRICT' })
  academicYearCode: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  placeType: string;

  @Column({ type: 'integer' })
  places: number;
}

/** Pupils on top-up per school, term, setting and band (before the banding start: one legacy band). */
@Entity()
@Check(enumCheck('setting', asEnum(TOP_UP_SETTINGS)))
@Check(SOURCE_KIND_CHECK)
@Check('"pupils" >= 0')
export class TopUpCount extends WithTextProvenance {
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  setting: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  band: string;

  @Column({ type: 'integer' })
  pupils: number;
}

/** Placements commissioned outside the LA's own schools per financial year: count and average annual unit cost. */
@Entity()
@Check(enumCheck('kind', asEnum(PLACEMENT_KINDS)))
@Check(SOURCE_KIND_CHECK)
@Check('"placements" >= 0 AND "unit_cost" >= 0')
export class Placement extends WithTextProvenance {
  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @PrimaryColumn({ type: 'varchar', length: 24 })
  kind: string;

  @Column({ type: 'integer' })
  placements: number;

  @MoneyColumn()
  unitCost: string;
}

/** The block's income drivers for a financial year. */
@Entity()
@Check(SOURCE_KIND_CHECK)
@Check('"imported_pupils" >= 0 AND "exported_pupils" >= 0')
export class DsgIncomeYear extends WithTextProvenance {
  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  /** The DSG high-needs block allocation before the import/export adjustment (which is counted from the pupils below). */
  @MoneyColumn()
  highNeedsAllocation: string;

  /** The Schools Block before the transfer: the transfer is this x the transfer rate of record. */
  @MoneyColumn()
  schoolsBlock: string;

  /** The local authority's own contribution under the Safety Valve agreement in the year. */
  @MoneyColumn()
  laContribution: string;

  /**
   * High-needs pupils resident in other authorities in the LA's schools (imports) and the LA's resident pupils in
   * other authorities' schools (exports), as the DfE counts them for the import/export adjustment. Null: not
   * recorded (no adjustment counted; dataStatus reports it).
   */
  @Column({ type: 'integer', nullable: true })
  importedPupils: number | null;

  @Column({ type: 'integer', nullable: true })
  exportedPupils: number | null;
}
