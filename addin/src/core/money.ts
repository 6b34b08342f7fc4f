import type { CellValue } from './types';

const MONEY_RE = /^-?\d{1,13}(\.\d{1,2})?$/;

/** Normalises a hub Money string to exactly two decimals, e.g. "12.5" → "12.50". */
export function normaliseMoney(s: string): string {
  if (!MONEY_RE.test(s)) throw new Error(`not a money amount: ${s}`);
  const neg = s.startsWith('-');
  const [int, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const out = `${BigInt(int).toString()}.${(frac + '00').slice(0, 2)}`;
  return neg && out !== '0.00' ? `-${out}` : out;
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
