import type { CellValue } from './types';

/** Limits per Excel sync: Excel on the web refuses payloads above ~5 MB; staying far below keeps it responsive. */
export interface ChunkLimits {
  maxCells: number;
  maxBytes: number;
}
export const DEFAULT_LIMITS: ChunkLimits = { maxCells: 100_000, maxBytes: 2_000_000 };

export interface Chunk {
  start: number;
  count: number;
  cells: number;
  bytes: number;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes a row costs on the wire, estimated as its JSON (how Office.js serialises range values). */
export function rowBytes(row: CellValue[]): number {
  return utf8Length(JSON.stringify(row)) + 1;
}

/**
 * Splits rows into consecutive chunks, each written as one 2-D range in one sync, none above the limits.
 * A single row above the byte limit still gets its own chunk (Excel caps a cell at 32,767 characters,
 * so that cannot exceed the limit with realistic column counts).
 */
export function planChunks(rows: CellValue[][], limits: ChunkLimits = DEFAULT_LIMITS): Chunk[] {
  const chunks: Chunk[] = [];
  let cur: Chunk | null = null;
  for (let r = 0; r < rows.length; r++) {
    const cells = rows[r].length;
    const bytes = rowBytes(rows[r]);
    if (cur && (cur.cells + cells > limits.maxCells || cur.bytes + bytes > limits.maxBytes)) {
      chunks.push(cur);
      cur = null;
    }
    if (!cur) cur = { start: r, count: 0, cells: 0, bytes: 2 };
    cur.count++;
    cur.cells += cells;
    cur.bytes += bytes;
  }
  if (cur) chunks.push(cur);
  return chunks;
}
