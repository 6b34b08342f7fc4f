import { BadInput, cutText } from '../../errors';

/** One rejected cell or row: everything a person needs to find and fix it in the file. */
export interface RowError {
  /** 1-based line in the file (the header is line 1); for XLSX, the sheet row. */
  line: number;
  column: string | null;
  value: string | null;
  reason: string;
}

/** Reports at most this many errors in full; the count is always exact. */
export const MAX_REPORTED_ERRORS = 500;

export class ErrorList {
  readonly items: RowError[] = [];
  count = 0;
  readonly rejectedLines = new Set<number>();

  add(e: RowError): void {
    this.count++;
    // A report repeats the offending value: cut, so a 100 MB field cannot make a 200 MB answer.
    e = {
      ...e,
      value: e.value === null ? null : cutText(e.value, 200),
      reason: cutText(e.reason, 500),
      column: e.column === null ? null : cutText(e.column, 100),
    };
    if (e.line > 0) this.rejectedLines.add(e.line);
    if (this.items.length < MAX_REPORTED_ERRORS) this.items.push(e);
  }
}

/** The line each key of a file was first met on: a key met again is a problem of both lines. */
export class FirstLines {
  private readonly lines = new Map<string, number>();

  /** Notes `key` on `line`; when it was met before, reports it (the reason names the first line) and returns false. */
  once(
    key: string,
    line: number,
    errors: ErrorList,
    problem: { column: string; value: string; reason: (first: number) => string },
  ): boolean {
    const first = this.lines.get(key);
    if (first === undefined) {
      this.lines.set(key, line);
      return true;
    }
    errors.add({ line, column: problem.column, value: problem.value, reason: problem.reason(first) });
    errors.rejectedLines.add(first);
    return false;
  }
}

export function formatRowError(e: RowError): string {
  const where = [`line ${e.line}`, e.column ? `column "${e.column}"` : null].filter(Boolean).join(', ');
  return `${where}${e.value !== null ? ` value ${JSON.stringify(e.value)}` : ''}: ${e.reason}`;
}

/** A whole-file problem (not CSV, wrong encoding, missing column): nothing is read further, nothing written. */
export class FileRejected extends BadInput {
  constructor(
    message: string,
    readonly errors: RowError[],
  ) {
    const cut = errors
      .slice(0, MAX_REPORTED_ERRORS)
      .map((e) => ({ ...e, value: e.value === null ? null : cutText(e.value, 200), reason: cutText(e.reason, 500) }));
    super(cutText(message, 1000), 'file', { errors: cut });
  }
}
