import type ExcelJS from 'exceljs';

let loaded: typeof ExcelJS | undefined;

/**
 * exceljs, loaded on first use: it is the largest module the hub has, and only the workbooks the hub writes (exports,
 * templates, the Safety Valve return) need it, never a read or an import (xlsx.ts reads uploads). Types come from
 * `import type`.
 */
export function excel(): typeof ExcelJS {
  return (loaded ??= require('exceljs') as typeof ExcelJS);
}
