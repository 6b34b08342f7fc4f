/** A value as Excel holds it in a cell. Money stays a decimal string until the gateway writes it. */
export type CellValue = string | number | boolean | null;

export type Role = 'FINANCE' | 'SUBGROUP' | 'CHAIR' | 'ANALYST';

export interface Me {
  name: string;
  role: Role;
  communityCode: string | null;
}

/** Column kinds decide the Excel number format and how a cell is read back. */
export type ColumnKind = 'text' | 'int' | 'money' | 'decimal' | 'date' | 'count';

export interface ColumnDef {
  header: string;
  kind: ColumnKind;
  /** Editable columns are left unstyled; everything else is greyed as "not writable". */
  editable?: boolean;
}

/** Excel number formats per column kind; money keeps pence, counts are whole numbers. */
export const NUMBER_FORMATS: Record<ColumnKind, string> = {
  text: '@',
  int: '0',
  money: '#,##0.00',
  decimal: '0.00##',
  date: 'yyyy-mm-dd',
  count: '0',
};
