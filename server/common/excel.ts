import type ExcelJS from 'exceljs';

let loaded: typeof ExcelJS | undefined;

/**
 * exceljs, loaded on first use: it is the largest module the hub has, and only imports, exports and templates need
 * it, never a read. The hub's main.ts loads it at start, so that it does not add to the first upload's memory; the
 * commands and tests that never import load it never. Types come from `import type`.
 */
export function excel(): typeof ExcelJS {
  return (loaded ??= require('exceljs') as typeof ExcelJS);
}
