import type { DatasetParams } from './datasets';
import { localStamp } from './format';

export interface Stamp {
  source: string;
  dataset: string;
  filters: DatasetParams;
  asAt: string;
  by: string;
  role: string;
}

const FILTER_LABELS: Record<string, string> = {
  districtCode: 'district',
  communityCode: 'community',
  phase: 'phase',
  term: 'term',
  year: 'year',
  scenario: 'scenario',
  kind: 'kind',
  groupBy: 'by',
  period: 'period',
  status: 'status',
};

export function describeFilters(p: DatasetParams): string {
  const parts = Object.entries(p)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${FILTER_LABELS[k] ?? k}=${v}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** An ISO instant as the person's own clock shows it, with the zone ("01/06/2025 10:00 BST"). */
export function whenText(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : localStamp(d);
}

/** The line written above every table: where the figures came from, which filters, as at when, by whom. */
export function stampText(s: Stamp): string {
  return `${s.dataset} from ${s.source} · filters: ${describeFilters(s.filters)} · as at ${whenText(s.asAt)} · by ${s.by} (${s.role})`;
}

/** A failed refresh keeps the old stamp visible after the failure, so the figures' real age is never hidden. */
export function failedStampText(old: Stamp, when: string, reason: string): string {
  return `REFRESH FAILED ${whenText(when)}: ${reason} · figures below are still ${stampText(old)}`;
}
