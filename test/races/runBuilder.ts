/** Builds LoadedRun objects by hand for the unit tests of the shared-memory analyses. */
import type { AtomRecord, SegmentRecord } from '../../src/protocol/events';
import type { LoadedRun, LoadedThread } from '../../src/core/runData';
import { emptyThread } from '../../src/core/load';

/** Site id of (line, column) in the one module every hand-built thread has (fid 1). */
export function site(line: number, column = 1): number {
  return (1 << 20) + line * 1000 + column;
}

/** One thread with a module whose sites resolve: site(line, col) → file:line:col. */
export function thread(tid: number, opts: { pid?: number; parentTid?: number | null; file?: string; spawnLine?: number } = {}): LoadedThread {
  const pid = opts.pid ?? 100;
  const file = opts.file ?? '/app/main.js';
  const sites: number[] = [];
  // Sites are addressed as line*1000+col within fid 1; fill a sparse table lazily via a Proxy-free array.
  const mod = { k: 'module' as const, fid: 1, file, url: `file://${file}`, funcs: [], names: [], sites };
  const t = emptyThread(pid, tid, {
    k: 'thread',
    pid,
    ppid: null,
    tid,
    parentTid: tid === 0 ? null : (opts.parentTid ?? 0),
    kind: tid === 0 ? 'main' : 'worker',
    name: tid === 0 ? 'main' : `worker ${tid}`,
    entry: file,
    startUs: 0,
    nodeVersion: 'v20',
    backend: 'none',
    backendReason: '',
  });
  t.modules.set(1, mod);
  t.tidx = tid;
  t.complete = true;
  return t;
}

/** Makes site(line, col) resolvable in a thread's module. */
export function defineSites(t: LoadedThread, ...lines: [number, number?][]): void {
  const mod = t.modules.get(1)!;
  for (const [line, col = 1] of lines) {
    const j = line * 1000 + col;
    mod.sites[3 * j] = line;
    mod.sites[3 * j + 1] = col;
    mod.sites[3 * j + 2] = 0;
  }
}

/** Gives a thread buffer index 0 → run-wide id "B" (and more when asked). */
export function shareBuffer(t: LoadedThread, id = 'B', idx = 0, byteLength = 64, origin = false, allocLine?: number): void {
  t.bufs.set(idx, { k: 'buf', idx, id, byteLength, site: allocLine ? site(allocLine) : null, origin });
  if (allocLine) defineSites(t, [allocLine]);
}

/** One access run: [buf idx, byte offset, byte length, AccessKind, line]. */
export type Run = [number, number, number, number, number];

/** Appends a segment with vector clock {slot: clock} and access runs. */
export function segment(t: LoadedThread, vc: Record<number, number>, runs: Run[], self = t.tidx!): SegmentRecord {
  const flat: number[] = [];
  for (const [k, v] of Object.entries(vc)) flat.push(Number(k), v);
  const seg: SegmentRecord = { k: 'seg', self, vc: flat, buf: [], off: [], len: [], kind: [], site: [] };
  for (const [b, off, len, kind, line] of runs) {
    seg.buf.push(b);
    seg.off.push(off);
    seg.len.push(len);
    seg.kind.push(kind);
    seg.site.push(site(line));
    defineSites(t, [line]);
  }
  t.segs.push(seg);
  return seg;
}

/** One Atomics operation: [us, op, off, val, res, dur, line] on buffer index 0. */
export type Atom = [number, number, number, number, number, number, number];

/** Appends Atomics operations (one columnar record) to a thread. */
export function atoms(t: LoadedThread, ops: Atom[], buf = 0): AtomRecord {
  const rec: AtomRecord = { k: 'atom', us: [], op: [], buf: [], off: [], val: [], res: [], dur: [], site: [] };
  for (const [us, op, off, val, res, dur, line] of ops) {
    rec.us.push(us);
    rec.op.push(op);
    rec.buf.push(buf);
    rec.off.push(off);
    rec.val.push(val);
    rec.res.push(res);
    rec.dur.push(dur);
    rec.site.push(site(line));
    defineSites(t, [line]);
  }
  t.atoms.push(rec);
  return rec;
}

/** A run of the given threads (origin 0). */
export function run(...threads: LoadedThread[]): LoadedRun {
  return { dir: '/tmp/none', manifest: null, outcome: null, threads, originUs: 0 };
}
