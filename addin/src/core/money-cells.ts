import type { CellValue } from './types';
import { parseMoney } from '../../../server/common/money';

// The hub's one money parser, bundled into the add-in: the same rule and message as the API and the imports.
export { parseMoney, readMoney, MoneyError, toPence } from '../../../server/common/money';
export type { MoneyOptions, MoneyProblem, MoneyResult } from '../../../server/common/money';

/** Normalises a hub Money string to exactly two decimals, e.g. "12.5" → "12.50"; throws a BAD_AMOUNT MoneyError otherwise. */
export function normaliseMoney(s: string): string {
  return parseMoney(s, { field: 'Amount', allowNegative: true });
}

export type MoneyRead = { ok: true; value: string } | { ok: false; message: string };

/**
 * Reads an amount cell. Only real numbers are accepted: text that looks like a number is still text in
 * Excel (it would not add up in the sheet either), so it is flagged rather than silently converted.
 */
export function moneyFromCell(v: CellValue): MoneyRead {
  if (v === null || v === '') return { ok: false, message: 'Amount is empty' };
  if (typeof v !== 'number') return { ok: false, message: `Amount is text ("${String(v)}"), not a number` };
  if (!Number.isFinite(v)) return { ok: false, message: 'Amount is not a finite number' };
  const pence = Math.round(v * 100);
  // Excel numbers are binary floats: 0.1+0.2 style noise is tolerated, real third decimals are not.
  if (Math.abs(v * 100 - pence) > 1e-6 * Math.max(1, Math.abs(v))) {
    return { ok: false, message: `Amount ${v} has more than 2 decimal places` };
  }
  if (!Number.isSafeInteger(pence)) return { ok: false, message: `Amount ${v} is too large` };
  const neg = pence < 0;
  const abs = Math.abs(pence);
  const s = `${neg ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return { ok: true, value: s };
}

/** The one place a Money string becomes a float: writing it into a cell. */
export function moneyToCell(s: string | null | undefined): CellValue {
  if (s === null || s === undefined || s === '') return null;
  return Number(s);
}

/** Sums Money strings exactly (in pence, as BigInt). */
export function sumMoney(values: string[]): string {
  let pence = 0n;
  for (const v of values) {
    const n = normaliseMoney(v);
    const neg = n.startsWith('-');
    const [i, f] = (neg ? n.slice(1) : n).split('.');
    const p = BigInt(i) * 100n + BigInt(f);
    pence += neg ? -p : p;
  }
  const neg = pence < 0n;
  const abs = neg ? -pence : pence;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}
