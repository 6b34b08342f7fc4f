import { Column, ColumnOptions } from 'typeorm';

/** Pounds and pence: numeric(14,2) in Postgres, a string in TypeScript (pg returns numeric as text). */
export function MoneyColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'numeric', precision: 14, scale: 2, ...options });
}

/** A calendar date kept as 'YYYY-MM-DD' text in TypeScript. */
export function DateColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'date', ...options });
}

/** A CHECK that a varchar column holds one of a string enum's values, so the database refuses any other. */
export function enumCheck(column: string, values: Record<string, string>): string {
  return `"${column}" IN (${Object.values(values)
    .map((v) => `'${v.replace(/'/g, "''")}'`)
    .join(', ')})`;
}
