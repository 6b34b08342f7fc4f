/**
 * How figures read to a finance officer: £ with thousands and negatives in brackets, rates as %, dates as
 * dd/mm/yyyy, times local with their zone. The hub's Money strings are exact decimals; the sums here are in
 * whole pence (BigInt), never floats.
 */

/** Whole pence of a hub Money string ("-1234.5" → -123450n); null for anything that is not one. */
export function pence(s: string | null | undefined): bigint | null {
  if (s === null || s === undefined) return null;
  const t = String(s).trim();
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot + 1);
  if (!int || int.length > 15 || frac.length > 2 || ![...int, ...frac].every((c) => c >= '0' && c <= '9')) return null;
  const p = BigInt(int) * 100n + BigInt((frac + '00').slice(0, 2));
  return neg ? -p : p;
}

function groups(int: string): string {
  let out = '';
  for (let i = 0; i < int.length; i++) {
    if (i && (int.length - i) % 3 === 0) out += ',';
    out += int[i];
  }
  return out;
}

/** £12,345.60, and (£1,000.00) for a negative; "—" for no figure. */
export function pounds(v: string | number | bigint | null | undefined): string {
  let p: bigint | null;
  if (typeof v === 'bigint') p = v;
  else if (typeof v === 'number') p = Number.isFinite(v) ? BigInt(Math.round(v * 100)) : null;
  else p = pence(v);
  if (p === null) return '—';
  const neg = p < 0n;
  const a = neg ? -p : p;
  const text = `£${groups((a / 100n).toString())}.${(a % 100n).toString().padStart(2, '0')}`;
  return neg ? `(${text})` : text;
}

/** A rate from 0 to 1 as a percentage: "0.7500" → "75%", "0.625" → "62.5%". */
export function percent(rate: string | number | null | undefined): string {
  if (rate === null || rate === undefined || rate === '') return '—';
  const s = String(rate).trim();
  const neg = s.startsWith('-');
  const [i = '0', f = ''] = (neg ? s.slice(1) : s).split('.');
  const digits = (i + (f + '00').slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = f.slice(2).replace(/0+$/, '');
  return `${neg ? '-' : ''}${digits}${rest ? `.${rest}` : ''}%`;
}

/** "2025-09-01" → "01/09/2025"; anything else as it came. */
export function ukDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = String(iso).slice(0, 10);
  const [y, m, day] = d.split('-');
  return y && m && day ? `${day}/${m}/${y}` : String(iso);
}

/** Excel's date serial for an ISO date (days since 30/12/1899), so a date column sorts and filters as dates. */
export function excelDate(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const [y, m, d] = String(iso).slice(0, 10).split('-').map(Number);
  if (!y || !m || !d) return null;
  return Date.UTC(y, m - 1, d) / 86_400_000 + 25_569;
}

/** "01/06/2025 10:00 BST": local time with its zone, as the person reads a clock. */
export function localStamp(d: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('day')}/${get('month')}/${get('year')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
