/**
 * The one money parser of the hub: the API, every finance import, the Money scalar and the Excel add-in
 * (which bundles this file with esbuild) read pounds and pence with these rules and this message.
 * Pure TypeScript with no imports, so it runs in Node and in the add-in's browser runtime alike.
 *
 * The rule, written once:
 * - digits, optionally a point and one or two decimals: `1250`, `1250.5`, `1250.50`;
 * - thousands separators only as commas between groups of exactly three digits: `1,250.00`, `12,345,678`;
 *   so `12,50`, `1,2,3`, `1250,00`, `,125` are refused (a European decimal comma must never become pence);
 * - an optional `£` directly before the digits, and an optional `-` before that (`-£1,250.00`), the sign
 *   only where the field takes negative amounts (block lines); `£-5`, `+5`, `5-` are refused;
 * - spaces around the amount are ignored, anywhere inside it they are refused;
 * - no exponents (`1e3`), no second point (`1.2.3`), no third decimal, no other symbol or letter;
 * - at most 12 digits before the point (the database keeps numeric(14,2)).
 * The canonical result has no separators, no leading zeros and exactly two decimals: "1250.00", "-3.10".
 * A scanner, not a regular expression, so no input can make it backtrack.
 */

export const MONEY_MAX_INTEGER_DIGITS = 12;

export interface MoneyOptions {
  /** Names the value in the message: the input field or the file's column. */
  field: string;
  /** Negative amounts are allowed (a budget line of income); refused by default. */
  allowNegative?: boolean;
}

export interface MoneyProblem {
  code: 'BAD_AMOUNT';
  field: string;
  value: string;
  /** What is wrong, e.g. `has more than 2 decimal places`. */
  reason: string;
  /** The message without the field and value, for reports that show those in their own columns (imports). */
  detail: string;
  /** The one message: `amount "12,50" is not an amount of pounds and pence: … Write it as 1250.00 or 1,250.00.` */
  message: string;
}

export type MoneyResult = { ok: true; value: string } | { ok: false; problem: MoneyProblem };

/** Thrown by parseMoney: a BAD_AMOUNT naming the value and the field. */
export class MoneyError extends Error {
  readonly code = 'BAD_AMOUNT' as const;
  constructor(readonly problem: MoneyProblem) {
    super(problem.message);
    this.name = 'MoneyError';
  }
  get field(): string {
    return this.problem.field;
  }
  get value(): string {
    return this.problem.value;
  }
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0';

function problem(field: string, value: string, reason: string): MoneyResult {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  const detail = `is not an amount of pounds and pence: it ${reason}. Write it as 1250.00 or 1,250.00.`;
  return {
    ok: false,
    problem: {
      code: 'BAD_AMOUNT',
      field,
      value,
      reason,
      detail,
      message: `${field} ${JSON.stringify(shown)} ${detail}`,
    },
  };
}

/** Reads an amount; never throws. */
export function readMoney(input: unknown, opts: MoneyOptions): MoneyResult {
  const field = opts.field;
  if (typeof input === 'number')
    return problem(field, String(input), 'is a number, not text: send amounts as decimal strings such as "1250.00"');
  if (typeof input !== 'string') return problem(field, String(input ?? ''), 'is missing');
  const raw = input;
  let start = 0;
  let end = raw.length;
  while (start < end && isSpace(raw[start])) start++;
  while (end > start && isSpace(raw[end - 1])) end--;
  if (start === end) return problem(field, raw, 'is empty');
  if (end - start > 40)
    return problem(
      field,
      raw,
      `is longer than any amount (${MONEY_MAX_INTEGER_DIGITS} digits before the point at most)`,
    );
  let i = start;
  let negative = false;
  if (raw[i] === '-') {
    negative = true;
    i++;
  }
  if (raw[i] === '£') i++;
  if (negative && !opts.allowNegative) return problem(field, raw, 'is negative, and this amount must be zero or more');
  let int = '';
  let groupLen = 0;
  let grouped = false;
  for (; i < end; i++) {
    const c = raw[i];
    if (isDigit(c)) {
      int += c;
      groupLen++;
      if (grouped && groupLen > 3)
        return problem(
          field,
          raw,
          'has a comma that is not a thousands separator (groups of three digits, as in 1,250.00)',
        );
      continue;
    }
    if (c === ',') {
      if (int.length === 0) return problem(field, raw, 'starts with a comma');
      if (grouped ? groupLen !== 3 : groupLen > 3)
        return problem(
          field,
          raw,
          'has a comma that is not a thousands separator (groups of three digits, as in 1,250.00)',
        );
      grouped = true;
      groupLen = 0;
      continue;
    }
    break;
  }
  if (int.length === 0) {
    if (i < end && raw[i] === '.') return problem(field, raw, 'has no digits before the point');
    return problem(field, raw, describeStray(raw, i, end));
  }
  if (grouped && groupLen !== 3)
    return problem(
      field,
      raw,
      'has a comma that is not a thousands separator (groups of three digits, as in 1,250.00)',
    );
  let frac = '';
  if (i < end && raw[i] === '.') {
    i++;
    for (; i < end && isDigit(raw[i]); i++) frac += raw[i];
    if (frac.length === 0)
      return problem(field, raw, i < end ? describeStray(raw, i, end) : 'ends with a point and no pence');
    if (frac.length > 2) return problem(field, raw, 'has more than 2 decimal places');
  }
  if (i < end) {
    if (raw[i] === ',') return problem(field, raw, 'has a comma after the point');
    if (raw[i] === '.') return problem(field, raw, 'has more than one point');
    return problem(field, raw, describeStray(raw, i, end));
  }
  let k = 0;
  while (k < int.length - 1 && int[k] === '0') k++;
  const digits = int.slice(k);
  if (digits.length > MONEY_MAX_INTEGER_DIGITS)
    return problem(field, raw, `has more than ${MONEY_MAX_INTEGER_DIGITS} digits before the point`);
  const pence = (frac + '00').slice(0, 2);
  const zero = digits === '0' && pence === '00';
  return { ok: true, value: `${negative && !zero ? '-' : ''}${digits}.${pence}` };
}

function describeStray(raw: string, i: number, end: number): string {
  const c = raw[i];
  if (isSpace(c)) return 'has a space inside it';
  if (c === 'e' || c === 'E') return 'has an exponent (write the amount out in full)';
  if (c === '-' || c === '+')
    return i === 0 || raw[i - 1] === '£'
      ? 'has a sign in the wrong place (write -£5.00 or -5.00)'
      : 'has a sign in the wrong place';
  if (c === '£') return 'has a £ sign in the wrong place';
  return i < end ? `has the character ${JSON.stringify(c)}, which is not part of an amount` : 'is not a number';
}

/** Reads an amount or throws a MoneyError (BAD_AMOUNT naming the value and the field). */
export function parseMoney(input: unknown, opts: MoneyOptions): string {
  const r = readMoney(input, opts);
  if (!r.ok) throw new MoneyError(r.problem);
  return r.value;
}

/** Compares two canonical amounts (as parseMoney returns) exactly, without a float. */
export function compareMoney(a: string, b: string): -1 | 0 | 1 {
  const pa = toPence(a);
  const pb = toPence(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** A canonical amount in pence, as a BigInt. */
export function toPence(canonical: string): bigint {
  const neg = canonical.startsWith('-');
  const body = neg ? canonical.slice(1) : canonical;
  const dot = body.indexOf('.');
  const p = BigInt(body.slice(0, dot)) * 100n + BigInt(body.slice(dot + 1));
  return neg ? -p : p;
}
