/** The shape of an ISO calendar date, "2026-09-01". */
export const ISO_DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * True when `text` is a real calendar day written YYYY-MM-DD ("2026-02-31" is not): the one test of a date that the
 * Date scalar, the export parameters and the import cells all apply.
 */
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE_SHAPE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}
