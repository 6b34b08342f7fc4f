import type ExcelJS from 'exceljs';

let loaded: typeof ExcelJS | undefined;

/**
 * exceljs, loaded on first use: it is the largest module the hub has (a fifth of its start-up when imported at
 * the top), and only imports, exports and templates need it, never a read. Types come from `import type`.
 */
export function excel(): typeof ExcelJS {
  return (loaded ??= require('exceljs') as typeof ExcelJS);
}
