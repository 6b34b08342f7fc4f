/**
 * The one money parser of the hub: the API, every import, the Money scalar and the Excel add-in (which bundles
 * this file with esbuild) read pounds and pence with these rules and this message. The decimals that are not money
 * (a rate, a share, a percentage, a count with decimals) are read by readDecimal, the same scanner with the digits
 * of their column. Pure TypeScript with no imports, so it runs in Node and in the add-in's browser runtime alike.
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
 * Published files (roundToPenny) may have more decimals, rounded half up to the penny, and amounts in thousands or
 * millions (timesTenTo), the point moved before the rounding and the digit limit.
 * A scanner, not a regular expression, so no input can make it backtrack.
 */

export const MONEY_MAX_INTEGER_DIGITS = 12;

export interface MoneyOptions {
  /** Names the value in the message: the input field or the file's column. */
  field: string;
  /** Negative amounts are allowed (a budget line of income); refused by default. */
  allowNegative?: boolean;
  /** More than two decimals are rounded half up to the penny, not refused (Excel keeps formula results unrounded). */
  roundToPenny?: boolean;
  /** The amount is in 10^n pounds (3: thousands, 6: millions): the point moves right n places first. */
  timesTenTo?: number;
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

/** `rounded`: decimals beyond the penny were rounded away (only with roundToPenny). */
export type MoneyResult = { ok: true; value: string; rounded: boolean } | { ok: false; problem: MoneyProblem };

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

/** How a decimal that is not money is read: the digits its column keeps (numeric(p,s): p - s before the point, s after). */
export interface DecimalOptions {
  field: string;
  integerDigits: number;
  decimals: number;
  allowNegative?: boolean;
  /** More decimals than the column keeps are rounded half up, not refused. */
  round?: boolean;
}

export interface DecimalProblem {
  code: 'BAD_NUMBER';
  field: string;
  value: string;
  reason: string;
  /** `is not a number: it has more than 2 decimal places.` */
  detail: string;
  message: string;
}

export type DecimalResult = { ok: true; value: string; rounded: boolean } | { ok: false; problem: DecimalProblem };

const isDigit = (c: string) => c >= '0' && c <= '9';
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u00a0';

/** What the scanner reads: the column's digits, whether a £ may lead, and the words its reasons use. */
interface Shape {
  integerDigits: number;
  decimals: number;
  allowNegative?: boolean;
  round?: boolean;
  shift?: number;
  pound: boolean;
  noun: 'amount' | 'number';
}

type Scanned = { ok: true; value: string; rounded: boolean } | { ok: false; reason: string };

const shown = (value: string) => (value.length > 40 ? `${value.slice(0, 40)}…` : value);

/** Reads an amount; never throws. */
export function readMoney(input: unknown, opts: MoneyOptions): MoneyResult {
  const r = scan(input, {
    integerDigits: MONEY_MAX_INTEGER_DIGITS,
    decimals: 2,
    allowNegative: opts.allowNegative,
    round: opts.roundToPenny,
    shift: opts.timesTenTo,
    pound: true,
    noun: 'amount',
  });
  if (r.ok) return r;
  const value = valueText(input);
  const detail = `is not an amount of pounds and pence: it ${r.reason}. Write it as 1250.00 or 1,250.00.`;
  return {
    ok: false,
    problem: {
      code: 'BAD_AMOUNT',
      field: opts.field,
      value,
      reason: r.reason,
      detail,
      message: `${opts.field} ${JSON.stringify(shown(value))} ${detail}`,
    },
  };
}

/** Reads a decimal that is not money (no £), to exactly `decimals` places; never throws. */
export function readDecimal(input: unknown, opts: DecimalOptions): DecimalResult {
  const r = scan(input, { ...opts, pound: false, noun: 'number' });
  if (r.ok) return r;
  const value = valueText(input);
  const detail = `is not a number: it ${r.reason}.`;
  return {
    ok: false,
    problem: {
      code: 'BAD_NUMBER',
      field: opts.field,
      value,
      reason: r.reason,
      detail,
      message: `${opts.field} ${JSON.stringify(shown(value))} ${detail}`,
    },
  };
}

const valueText = (input: unknown) => (typeof input === 'string' ? input : String(input ?? ''));

function scan(input: unknown, shape: Shape): Scanned {
  const no = (reason: string): Scanned => ({ ok: false, reason });
  const { noun } = shape;
  if (typeof input === 'number')
    return no(
      noun === 'amount'
        ? 'is a number, not text: send amounts as decimal strings such as "1250.00"'
        : 'is a number, not text: send numbers as decimal strings such as "12.5"',
    );
  if (typeof input !== 'string') return no('is missing');
  const raw = input;
  let start = 0;
  let end = raw.length;
  while (start < end && isSpace(raw[start])) start++;
  while (end > start && isSpace(raw[end - 1])) end--;
  if (start === end) return no('is empty');
  if (end - start > 40)
    return no(`is longer than any ${noun} (${shape.integerDigits} digits before the point at most)`);
  const notThousands = 'has a comma that is not a thousands separator (groups of three digits, as in 1,250.00)';
  let i = start;
  let negative = false;
  if (raw[i] === '-') {
    negative = true;
    i++;
  }
  if (shape.pound && raw[i] === '£') i++;
  if (negative && !shape.allowNegative) return no(`is negative, and this ${noun} must be zero or more`);
  let int = '';
  let groupLen = 0;
  let grouped = false;
  for (; i < end; i++) {
    const c = raw[i];
    if (isDigit(c)) {
      int += c;
      groupLen++;
      if (grouped && groupLen > 3) return no(notThousands);
      continue;
    }
    if (c === ',') {
      if (int.length === 0) return no('starts with a comma');
      if (grouped ? groupLen !== 3 : groupLen > 3) return no(notThousands);
      grouped = true;
      groupLen = 0;
      continue;
    }
    break;
  }
  if (int.length === 0) {
    if (i < end && raw[i] === '.') return no('has no digits before the point');
    return no(describeStray(raw, i, end, shape));
  }
  if (grouped && groupLen !== 3) return no(notThousands);
  let frac = '';
  if (i < end && raw[i] === '.') {
    i++;
    for (; i < end && isDigit(raw[i]); i++) frac += raw[i];
    if (frac.length === 0)
      return no(
        i < end
          ? describeStray(raw, i, end, shape)
          : `ends with a point and no ${noun === 'amount' ? 'pence' : 'decimals'}`,
      );
  }
  const shift = shape.shift ?? 0;
  const places = shape.decimals;
  if (!shape.round && frac.length - shift > places)
    return no(`has more than ${places} decimal place${places === 1 ? '' : 's'}`);
  if (i < end) {
    if (raw[i] === ',') return no('has a comma after the point');
    if (raw[i] === '.') return no('has more than one point');
    return no(describeStray(raw, i, end, shape));
  }
  if (shift > 0) {
    int += frac.slice(0, shift).padEnd(shift, '0');
    frac = frac.slice(shift);
  }
  let rounded = false;
  if (frac.length > places) {
    const rest = frac.slice(places);
    rounded = /[1-9]/.test(rest);
    frac = frac.slice(0, places);
    if (rest[0] >= '5') {
      const up = (BigInt(int + frac) + 1n).toString().padStart(places + 1, '0');
      int = up.slice(0, up.length - places);
      frac = up.slice(up.length - places);
    }
  }
  let k = 0;
  while (k < int.length - 1 && int[k] === '0') k++;
  const digits = int.slice(k);
  if (digits.length > shape.integerDigits) return no(`has more than ${shape.integerDigits} digits before the point`);
  const decimals = frac.padEnd(places, '0');
  const zero = digits === '0' && !/[1-9]/.test(decimals);
  return { ok: true, value: `${negative && !zero ? '-' : ''}${digits}${places > 0 ? `.${decimals}` : ''}`, rounded };
}

function describeStray(raw: string, i: number, end: number, { pound, noun }: Shape): string {
  const c = raw[i];
  if (isSpace(c)) return 'has a space inside it';
  if (c === 'e' || c === 'E') return `has an exponent (write the ${noun} out in full)`;
  if (c === '-' || c === '+')
    return i === 0 || raw[i - 1] === '£'
      ? 'has a sign in the wrong place (write -£5.00 or -5.00)'
      : 'has a sign in the wrong place';
  if (c === '£' && pound) return 'has a £ sign in the wrong place';
  return i < end ? `has the character ${JSON.stringify(c)}, which is not part of an ${noun}` : 'is not a number';
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
