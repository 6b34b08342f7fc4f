import type { EntityManager } from 'typeorm';
import type { AuditEntry } from '../audit/audit.service';
import type { PeriodCatalogue } from '../period/period.service';
import type { ParamSpec } from '../exports/params';
import type { ErrorList } from './report';
import type { Table, TableOptions } from './table';

/**
 * The one shape of an import definition. Every import is one of three modes, and the type says what each
 * mode must have, so neither the validator (validate.ts) nor the apply step (apply.ts) asks for a member a
 * definition may lack:
 * - `records`: the hub's template columns, each cell parsed by its field kind; the rows become records keyed
 *   by id, diffed against the store and the changed ones written.
 * - `replace`: the template columns too, but the kind replaces whole sets of rows itself (`apply`).
 * - `published`: a layout the kind reads itself (`validate`: the DfE's or another publisher's file), giving
 *   the records, written through a store as `records` kinds are.
 */

export type FieldKind = 'int' | 'money' | 'signedMoney' | 'fraction' | 'text' | 'code' | 'enum' | 'bool' | 'date';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
  values?: readonly string[];
  maxLength?: number;
  description: string;
  example: string;
}

export type Value = string | number | boolean | null;
export interface ImportRow {
  line: number;
  values: Record<string, Value>;
}

/** The reference data the row checks look codes up in, loaded once per import. */
export interface Refs {
  periods: PeriodCatalogue;
  schools: Set<number>;
  communities: Set<string>;
  districts: Set<string>;
  /** Districts GIAS made that no areas import has placed yet. */
  unplacedDistricts: Set<string>;
  areas: Set<string>;
  workers: Set<string>;
  settings: Set<string>;
}

export type Bad = (field: string, reason: string) => void;
export type Stored = Record<string, string | number | boolean | null>;
export interface RecordChange {
  id: string;
  after: Stored;
}

/** Who imported what: the provenance written on every figure an import sets. */
export interface ImportSource {
  file: string;
  by: string;
  /** IMPORTED from a file (the default), or MANUAL when a mutation enters one line by hand. */
  kind?: 'IMPORTED' | 'MANUAL';
}

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  audit: AuditEntry[];
  /** What changed, in plain words (e.g. a school moving between communities), for the report. */
  notes?: string[];
}

export type ImportOptionValues = Record<string, string | number | null>;

/** Where records of one table are read from and written to; the apply step diffs them against `load`. */
export interface RecordStore {
  load(tx: EntityManager, ids: string[]): Promise<Map<string, Stored>>;
  write(tx: EntityManager, changed: RecordChange[], existing: Map<string, Stored>, src: ImportSource): Promise<void>;
}

/** What the validator makes of a template file: the rows it accepts, every problem, the columns it does not read. */
export interface Validated {
  rows: ImportRow[];
  errors: ErrorList;
  ignoredColumns: string[];
}

/** What a published layout's own reader makes of a file: the records to write as well, and what it reports besides. */
export interface PublishedValidated extends Validated {
  records: RecordChange[];
  /** Shown in the report as it is (e.g. a derivation per school, lines read but not imported). */
  details?: Record<string, unknown>;
}

/** What every import has, whatever its mode: its name, its columns (for the template and the guide), its settings. */
interface KindInfo {
  kind: string;
  title: string;
  description: string;
  fields: FieldSpec[];
  /** Fields identifying a record: a key that appears twice rejects both lines. */
  key: string[];
  /** Upload limit of POST /import/<kind> when the published file is larger than a template (default UPLOAD_LIMITS.financeBytes). */
  maxBytes?: number;
  /** Settings a file does not carry (e.g. its financial year): query parameters of POST /import/<kind>, --flags of the CLI. */
  options?: ParamSpec[];
  /** The report's details as lines for the command line. */
  detailLines?(details: Record<string, unknown>): string[];
}

/** The checks of a template import's rows, after each cell has parsed. */
interface TemplateChecks {
  /** Checks that need reference data. */
  check(row: ImportRow, refs: Refs, bad: Bad): void;
  /** Checks against the stored state, run inside the write transaction (e.g. a pot below its approved allocations). */
  checkAgainstStore?(tx: EntityManager, rows: ImportRow[], errors: ErrorList): Promise<void>;
}

export interface RecordsImport extends KindInfo, TemplateChecks {
  mode: 'records';
  /** Records as stored, keyed by id. */
  records(rows: ImportRow[]): RecordChange[];
  store: RecordStore;
}

export interface ReplaceImport extends KindInfo, TemplateChecks {
  mode: 'replace';
  /** Replaces the sets of rows the file holds; counts and audits what it changed. */
  apply(tx: EntityManager, rows: ImportRow[]): Promise<ApplyResult>;
}

export interface PublishedImport extends KindInfo {
  mode: 'published';
  /** How the file is read (its sheet, title rows above the header, the rows of other authorities left out). */
  table?: TableOptions;
  validate(tx: EntityManager, table: Table, refs: Refs, options: ImportOptionValues): Promise<PublishedValidated>;
  store: RecordStore;
}

export type ImportKind = RecordsImport | ReplaceImport | PublishedImport;
/** The kinds read from the hub's own template columns. */
export type TemplateImport = RecordsImport | ReplaceImport;
