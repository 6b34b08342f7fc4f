import { readDecimal, type DecimalOptions } from '../../common/money';
import { isIsoDate } from '../../common/dates';

/**
 * How every import reads a cell that is a date or a decimal that is not money (money is common/money.ts's
 * readMoney): the template kinds (validate.ts), the Safety Valve kinds, the published layouts and GIAS alike.
 */

/** Why a date cell was refused: the one reason every import gives. */
export const DATE_REASON = 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)';

/** Excel's day numbers for 1954-10-03 to 2119-01-08: a date in a cell formatted as a number. */
const EXCEL_DAYS = { min: 20000, max: 80000 };
const EXCEL_DAY_ZERO = Date.UTC(1899, 11, 30);

/**
 * A date cell as ISO ("2026-09-01"), or null when it is not a real calendar day (31/02 is refused). It reads
 * YYYY-MM-DD (the templates, and an XLSX date cell, which upload.ts gives as ISO), the UK's DD/MM/YYYY as people type
 * it, DD-MM-YYYY as GIAS writes it, and the day number Excel keeps for a date in a cell formatted as a number.
 */
export function readDate(text: string): string | null {
  if (/^\d{5}$/.test(text)) {
    const n = Number(text);
    if (n < EXCEL_DAYS.min || n > EXCEL_DAYS.max) return null;
    return new Date(EXCEL_DAY_ZERO + n * 86_400_000).toISOString().slice(0, 10);
  }
  const uk = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(text);
  const iso = uk ? `${uk[4]}-${uk[3].padStart(2, '0')}-${uk[1].padStart(2, '0')}` : text;
  return isIsoDate(iso) ? iso : null;
}

/** A date cell that may be blank: null when it is, undefined when it holds something that is not a date. */
export const readDateOrBlank = (text: string): string | null | undefined =>
  text === '' ? null : (readDate(text) ?? undefined);

/**
 * The decimals that are not money, each with the digits of the column it is written to (numeric(p,s): p - s
 * digits before the point, s after), read by common/money.ts's readDecimal with the money rules for commas,
 * signs and spaces.
 */
export const DECIMAL_COLUMNS = {
  /** A share from 0 to 1 (a protection rate, an SEN percentage): numeric(6,4), at most 4 decimals as the template says. */
  share: { integerDigits: 1, decimals: 4 },
  /** A Safety Valve KPI counted or in percent: safety_valve_kpi.plan and .actual, numeric(16,2). */
  kpiValue: { integerDigits: 14, decimals: 2, allowNegative: true },
  /** GIAS's percentage of pupils eligible for free school meals: school.percent_fsm, numeric(5,2), rounded to it. */
  percentFsm: { integerDigits: 3, decimals: 2, round: true },
} satisfies Record<string, Omit<DecimalOptions, 'field'>>;

export type DecimalColumn = keyof typeof DECIMAL_COLUMNS;

/** Reads a decimal cell for its column; never throws. */
export const readDecimalCell = (text: string, column: DecimalColumn, field: string) =>
  readDecimal(text, { ...DECIMAL_COLUMNS[column], field });
