/**
 * cProfile/pstats text, byte for byte the layout of Python's `Stats.print_stats()`:
 * header, "Ordered by:", the restriction line, and rows `ncalls tottime percall cumtime
 * percall filename:lineno(function)` with `total/primitive` ncalls for recursion.
 */
import { relative, isAbsolute } from 'node:path';
import type { FunctionRow } from '../../protocol/report';
import { UserError } from '../api';

/** A pstats sort key: field, direction (-1 descending), and the name pstats prints. */
interface SortSpec {
  field: 'pcalls' | 'ncalls' | 'tottime' | 'cumtime' | 'file' | 'line' | 'name' | 'stdname';
  dir: 1 | -1;
  title: string;
}

const KEYS: Record<string, SortSpec[]> = {
  calls: [{ field: 'ncalls', dir: -1, title: 'call count' }],
  ncalls: [{ field: 'ncalls', dir: -1, title: 'call count' }],
  cumtime: [{ field: 'cumtime', dir: -1, title: 'cumulative time' }],
  cumulative: [{ field: 'cumtime', dir: -1, title: 'cumulative time' }],
  filename: [{ field: 'file', dir: 1, title: 'file name' }],
  file: [{ field: 'file', dir: 1, title: 'file name' }],
  module: [{ field: 'file', dir: 1, title: 'file name' }],
  line: [{ field: 'line', dir: 1, title: 'line number' }],
  name: [{ field: 'name', dir: 1, title: 'function name' }],
  nfl: [
    { field: 'name', dir: 1, title: 'name/file/line' },
    { field: 'file', dir: 1, title: '' },
    { field: 'line', dir: 1, title: '' },
  ],
  pcalls: [{ field: 'pcalls', dir: -1, title: 'primitive call count' }],
  stdname: [{ field: 'stdname', dir: 1, title: 'standard name' }],
  time: [{ field: 'tottime', dir: -1, title: 'internal time' }],
  tottime: [{ field: 'tottime', dir: -1, title: 'internal time' }],
};

/** Every sort key pstats accepts. */
export const PSTATS_SORT_KEYS = Object.keys(KEYS);

/** Validates sort keys (UserError naming the valid ones). */
export function checkSortKeys(keys: string[]): void {
  for (const k of keys) {
    if (!KEYS[k]) throw new UserError(`unknown sort key "${k}"; use one of ${PSTATS_SORT_KEYS.join(', ')}`);
  }
}

/** Options for the text table. */
export interface PstatsOptions {
  /** pstats sort keys, applied like `sort_stats(*keys)`; default ['cumulative']. */
  sort?: string[];
  /** Print at most this many rows (pstats `print_stats(n)`); undefined = all. */
  limit?: number;
  /** Make paths relative to this directory (like strip_dirs, but keeping subfolders). */
  baseDir?: string;
  /** Show only the program's own code (no Node internals, natives or profiler), as a pstats restriction. */
  userOnly?: boolean;
}

/** Whether a row is the program's code (or GC), not Node's internals, a native or the profiler. */
export function isUserRow(r: Pick<FunctionRow, 'file' | 'line' | 'name'>): boolean {
  if (r.name === '(garbage collector)') return true;
  if (r.file === '' || r.file.startsWith('node:') || r.file.startsWith('data:')) return false;
  return !(r.line === 0 && r.name.startsWith('('));
}

function displayFile(file: string, baseDir: string | undefined): string {
  if (!baseDir || !isAbsolute(file)) return file;
  const rel = relative(baseDir, file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** pstats' func_std_string: "file:line(name)", or "{name}" for built-ins (file "~", line 0). */
export function stdName(row: Pick<FunctionRow, 'file' | 'line' | 'name'>, baseDir?: string): string {
  if (row.file === '' || row.file === '~' || (row.line === 0 && row.name.startsWith('('))) {
    const n = row.name.startsWith('(') && row.name.endsWith(')') ? row.name.slice(1, -1) : row.name;
    return `{${n}}`;
  }
  return `${displayFile(row.file, baseDir)}:${row.line}(${row.name})`;
}

/**
 * Python's `"%.Nf" % x` for x ≥ 0: the nearest N-digit decimal, a tie to the even digit.
 * (JavaScript's toFixed takes a tie up: 0.0625 → "0.063" where pstats prints "0.062".)
 */
export function pyFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  // A double is a binary fraction with a finite decimal expansion; 60 more digits show a tie exactly.
  const exact = x.toFixed(digits + 60);
  if (!/^50*$/.test(exact.slice(-60))) return s;
  const down = exact.slice(0, -60).replace(/\.$/, '');
  return Number(down[down.length - 1]) % 2 === 0 ? down : s;
}

const f8 = (x: number) => pyFixed(x, 3).padStart(8);

/** Sorts rows like pstats `sort_stats(*keys)` (ties keep a stable standard-name order). */
export function sortPstatsRows(rows: FunctionRow[], keys: string[] = ['cumulative'], baseDir?: string): FunctionRow[] {
  checkSortKeys(keys);
  const specs = keys.flatMap((k) => KEYS[k]!);
  const std = new Map(rows.map((r) => [r, stdName(r, baseDir)]));
  const value = (r: FunctionRow, f: SortSpec['field']): number | string => {
    switch (f) {
      case 'pcalls':
        return r.primitiveCalls ?? -1;
      case 'ncalls':
        return r.ncalls ?? -1;
      case 'tottime':
        return r.tottimeMs;
      case 'cumtime':
        return r.cumtimeMs;
      case 'file':
        return r.file === '' ? '~' : r.file;
      case 'line':
        return r.line;
      case 'name':
        return r.name;
      case 'stdname':
        return std.get(r)!;
    }
  };
  return [...rows].sort((a, b) => {
    for (const s of specs) {
      const va = value(a, s.field);
      const vb = value(b, s.field);
      if (va < vb) return -s.dir;
      if (va > vb) return s.dir;
    }
    const sa = std.get(a)!;
    const sb = std.get(b)!;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  });
}

/** The "Ordered by:" title of a list of sort keys. */
export function sortTitle(keys: string[]): string {
  return keys
    .flatMap((k) => KEYS[k]!)
    .map((s) => s.title)
    .filter(Boolean)
    .join(', ');
}

/** The text Python's `pstats.Stats(...).sort_stats(*sort).print_stats(limit)` prints for these rows. */
export function buildPstatsTable(rows: FunctionRow[], opts: PstatsOptions = {}): string {
  const keys = opts.sort?.length ? opts.sort : ['cumulative'];
  const sorted = sortPstatsRows(rows, keys, opts.baseDir);
  let total = 0;
  let prim = 0;
  let tt = 0;
  for (const r of rows) {
    total += r.ncalls ?? 0;
    prim += r.primitiveCalls ?? r.ncalls ?? 0;
    tt += r.tottimeMs;
  }
  const out: string[] = [];
  let head = `         ${total} function calls `;
  if (total !== prim) head += `(${prim} primitive calls) `;
  out.push(head + `in ${pyFixed(tt / 1000, 3)} seconds`, '');
  const restrictions: string[] = [];
  let shown = sorted;
  if (opts.userOnly) {
    const user = shown.filter(isUserRow);
    if (user.length !== shown.length) restrictions.push(`   List reduced from ${shown.length} to ${user.length} due to restriction <'user code'>`);
    shown = user;
  }
  if (opts.limit !== undefined && opts.limit >= 0 && opts.limit < shown.length) {
    restrictions.push(`   List reduced from ${shown.length} to ${opts.limit} due to restriction <${opts.limit}>`);
    shown = shown.slice(0, opts.limit);
  }
  if (!shown.length) return out.join('\n') + '\n';
  out.push(`   Ordered by: ${sortTitle(keys)}`, ...restrictions);
  out.push('', '   ncalls  tottime  percall  cumtime  percall filename:lineno(function)');
  for (const r of shown) {
    const nc = r.ncalls;
    const cc = r.primitiveCalls ?? nc;
    let c = nc === null ? '?' : String(nc);
    if (nc !== null && cc !== null && nc !== cc) c += `/${cc}`;
    const ttS = r.tottimeMs / 1000;
    const ctS = r.cumtimeMs / 1000;
    const line = [
      c.padStart(9),
      f8(ttS),
      nc ? f8(ttS / nc) : ' '.repeat(8),
      f8(ctS),
      cc ? f8(ctS / cc) : ' '.repeat(8),
      stdName(r, opts.baseDir),
    ].join(' ');
    out.push(line);
  }
  out.push('', '');
  return out.join('\n') + '\n';
}

/** The title line of one thread's section ("Thread 1 \"worker\" (worker, pid 123)"). */
export function threadTitle(t: { id: number; name: string; kind: string; pid: number }): string {
  return `Thread ${t.id} "${t.name}" (${t.kind}, pid ${t.pid})`;
}

/** pstats text of a whole report: one section per thread, then the merged table (threadId -1). */
export function buildPstatsReport(
  report: { threads: { id: number; name: string; kind: string; pid: number; cpuMs: number | null }[]; functions: FunctionRow[] },
  opts: PstatsOptions & { merged?: boolean } = {},
): string {
  const parts: string[] = [];
  for (const t of report.threads) {
    const rows = report.functions.filter((r) => r.threadId === t.id);
    parts.push(`${threadTitle(t)}\n\n${buildPstatsTable(rows, opts)}`);
  }
  if (opts.merged !== false && report.threads.length > 1) {
    parts.push(`All threads (merged)\n\n${buildPstatsTable(report.functions.filter((r) => r.threadId === -1), opts)}`);
  }
  return parts.join('');
}
