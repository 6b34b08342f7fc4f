/** A value as Excel holds it in a cell. Money stays a decimal string until the gateway writes it. */
export type CellValue = string | number | boolean | null;

export type Role = 'FINANCE' | 'SUBGROUP' | 'CHAIR' | 'ANALYST';

export interface Me {
  name: string;
  role: Role;
  communityCode: string | null;
}

/** Column kinds decide the Excel number format and how a cell is read back. */
export type ColumnKind = 'text' | 'int' | 'money' | 'decimal' | 'rate' | 'points' | 'date' | 'count';

export interface ColumnDef {
  header: string;
  kind: ColumnKind;
  /** Editable columns are left unstyled; everything else is greyed as "not writable". */
  editable?: boolean;
}

/**
 * Excel number formats per column kind: money in pounds with negatives in brackets, rates (0 to 1) as
 * percentages, percentage points (the hub's "23.4" for 23.4%) with a % sign, UK dates.
 */
export const NUMBER_FORMATS: Record<ColumnKind, string> = {
  text: '@',
  int: '0',
  money: '"£"#,##0.00;("£"#,##0.00)',
  decimal: '#,##0.00##',
  rate: '0.0%',
  points: '0.0"%"',
  date: 'dd/mm/yyyy',
  count: '0',
};
