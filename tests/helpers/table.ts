import { TableRows, type Table } from '../../server/modules/imports/table';

/** A CSV table as the upload reader gives it: the header, then each line's cells by heading (line numbers from 2). */
export const tableOf = (header: string[], lines: string[][]): Table => ({
  format: 'csv',
  header,
  rows: TableRows.of(
    header,
    lines.map((cells, i) => ({ line: i + 2, cells: Object.fromEntries(header.map((h, j) => [h, cells[j] ?? ''])) })),
  ),
});
