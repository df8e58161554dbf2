/** Number formatting for the viewer: milliseconds, ratios, counts. */

/** "12.3 ms", "4.56 s", "820 µs"; "—" for null. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a >= 1000) return `${(ms / 1000).toFixed(a >= 10000 ? 1 : 2)} s`;
  if (a >= 1) return `${ms.toFixed(a >= 100 ? 0 : 1)} ms`;
  if (a === 0) return '0 ms';
  return `${(ms * 1000).toFixed(a >= 0.01 ? 0 : 2)} µs`;
}

/** Seconds with three decimals like cProfile's columns. */
export function fmtSec(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return (ms / 1000).toFixed(3);
}

/** "62%" from 0.62; "—" for null. */
export function fmtPct(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)}%`;
}

/** A plain number with a fixed number of decimals; "—" for null. */
export function fmtNum(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** Short file name for display (last two path parts). */
export function shortFile(file: string): string {
  const parts = file.replace(/^file:\/\//, '').split(/[\\/]/);
  return parts.slice(-2).join('/');
}
