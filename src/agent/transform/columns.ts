/**
 * Columns of instrumented code mapped back to the user's: each transformed module registers
 * (through `globalThis.__pp.cols`) where its lines got text inserted or replaced (the
 * transform's column table), and stack frames the agent captures are rewritten with the
 * original columns. Lines never move, so only columns need it.
 */
import { fileURLToPath } from 'node:url';

/** Raw tables by the file name V8 shows in frames (path for CommonJS, URL for ES modules, "[worker eval]"). */
const raw = new Map<string, number[]>();
/** Parsed on first use: line → [column, removed, added, …]. */
const parsed = new Map<string, Map<number, number[]>>();

/** Register a module's column table (see columnTable in index.ts). */
export function registerColumns(url: unknown, table: unknown): void {
  if (typeof url !== 'string' || !Array.isArray(table)) return;
  raw.set(url, table);
  parsed.delete(url);
  if (url.startsWith('file:')) {
    try {
      const path = fileURLToPath(url);
      raw.set(path, table);
      parsed.delete(path);
    } catch {
      /* not a local file */
    }
  }
}

function linesOf(file: string): Map<number, number[]> | undefined {
  let lines = parsed.get(file);
  if (lines) return lines;
  const t = raw.get(file);
  if (!t) return undefined;
  lines = new Map();
  for (let k = 0; k + 1 < t.length; ) {
    const n = t[k + 1]!;
    lines.set(t[k]!, t.slice(k + 2, k + 2 + 3 * n));
    k += 2 + 3 * n;
  }
  parsed.set(file, lines);
  return lines;
}

/** The original 1-based column of generated 1-based column `col` on `line` of `file` (unchanged when unknown). */
export function originalColumn(file: string, line: number, col: number): number {
  const edits = linesOf(file)?.get(line);
  if (!edits) return col;
  const g = col - 1;
  let shift = 0;
  for (let k = 0; k < edits.length; k += 3) {
    const at = edits[k]!;
    const start = at + shift;
    if (g < start) break;
    // A column inside inserted text stands for the place it was inserted.
    if (g < start + edits[k + 2]!) return at + 1;
    shift += edits[k + 2]! - edits[k + 1]!;
  }
  return g - shift + 1;
}

/** "name (file:line:col)" or "file:line:col" (the name ends at the first parenthesis). */
const FRAME = /^(.*?\()?(.+):(\d+):(\d+)(\)?)$/;

/** A captured frame ("name (file:line:col)") with the original column. */
export function originalFrame(frame: string): string {
  if (raw.size === 0) return frame;
  const m = FRAME.exec(frame);
  if (!m || !m[1] !== !m[5]) return frame;
  const file = m[2]!;
  if (!raw.has(file)) return frame;
  const line = Number(m[3]);
  return `${m[1] ?? ''}${file}:${line}:${originalColumn(file, line, Number(m[4]))}${m[5]}`;
}

/** Make `globalThis.__pp.cols` available to transformed modules in this thread. */
export function installColumnMaps(): void {
  const pp = (globalThis as any).__pp;
  if (pp && typeof pp === 'object' && !pp.cols) Object.defineProperty(pp, 'cols', { value: registerColumns, enumerable: false });
}
