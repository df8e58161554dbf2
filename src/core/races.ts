/**
 * Data races on shared buffers from the agent's segments (happens-before by vector clocks).
 *
 * Run a (thread i, epoch ea = its segment's vc[i]) happens-before run b (thread j, vc Vb)
 * iff ea <= Vb[i]. Runs of one thread with the same (buffer, range, kind, site) are grouped,
 * so a hot location touched in a million segments is one group per thread and site; a sweep
 * over sorted ranges finds overlapping groups, and because clocks only grow along a thread,
 * the runs of group A concurrent with one run b form a contiguous slice of A that two binary
 * searches find. Work is O(groups · overlap + runs · log runs), never all pairs of runs.
 */
import type { RaceAccess, RaceReport } from '../protocol/report';
import type { LoadedRun, LoadedThread, ResolvedSite } from './runData';
import { RunIndex, siteKey } from './hbSites';
import { ProcessClocks } from './hbClocks';

const OPS: RaceAccess['op'][] = ['read', 'write', 'atomic-read', 'atomic-write'];
const isWrite = (kind: number): boolean => kind === 1 || kind === 3;
const isAtomic = (kind: number): boolean => kind >= 2;

/** Runs of one thread on one (buffer, range) by one site and kind, in program order. */
interface RunGroup {
  thread: LoadedThread;
  slot: number;
  buffer: string;
  off: number;
  end: number;
  kind: number;
  site: number;
  /** Global segment indices (into ProcessClocks), in program order, possibly repeated. */
  segs: Uint32Array;
}

/** A race report being folded together from many group pairs. */
interface PendingRace {
  a: { group: RunGroup; site: ResolvedSite | null };
  b: { group: RunGroup; site: ResolvedSite | null };
  writeWrite: boolean;
  count: number;
  lo: number;
  hi: number;
  buffer: string;
}

/** Finds every data race in the run: one report per unordered pair of source sites. */
export function analyseRaces(run: LoadedRun): RaceReport[] {
  const index = new RunIndex(run);
  const pending = new Map<string, PendingRace>();
  const byPid = new Map<number, LoadedThread[]>();
  for (const t of run.threads) {
    // A thread without a vector-clock slot (detection off or past the agent's thread cap) cannot be ordered.
    if (t.segs.length === 0 || (t.tidx ?? t.segs.self(0)) < 0) continue;
    const list = byPid.get(t.pid) ?? [];
    list.push(t);
    byPid.set(t.pid, list);
  }
  for (const pid of [...byPid.keys()].sort((x, y) => x - y)) {
    const threads = byPid.get(pid)!.sort((x, y) => x.tid - y.tid);
    const clocks = new ProcessClocks(threads);
    const groups = buildGroups(threads, clocks, index);
    for (const buffer of [...groups.keys()].sort()) sweep(groups.get(buffer)!, clocks, index, pending);
  }
  return [...pending.values()].map((p) => toReport(p, index)).sort(compareReports);
}

/** Groups every access run of every thread of one process by buffer. */
function buildGroups(threads: LoadedThread[], clocks: ProcessClocks, index: RunIndex): Map<string, RunGroup[]> {
  const out = new Map<string, RunGroup[]>();
  for (const t of threads) {
    const segs = t.segs;
    const n = segs.accesses;
    const buf = new Float64Array(n);
    const off = new Float64Array(n);
    const len = new Float64Array(n);
    const kind = new Uint8Array(n);
    const site = new Float64Array(n);
    const segOf = new Uint32Array(n);
    let m = 0;
    for (let s = 0; s < segs.length; s++) {
      const g = clocks.segmentIndex(t, s);
      for (let r = segs.accStart(s), e = segs.accStart(s + 1); r < e; r++) {
        if (!(segs.len[r]! > 0)) continue;
        buf[m] = segs.buf[r]!;
        off[m] = segs.off[r]!;
        len[m] = segs.len[r]!;
        kind[m] = segs.kind[r]!;
        site[m] = segs.site[r]!;
        segOf[m] = g;
        m++;
      }
    }
    // Sorting (instead of hashing) puts repeats of one run next to each other, in segment order.
    const order = Array.from({ length: m }, (_, k) => k);
    order.sort((x, y) => buf[x]! - buf[y]! || off[x]! - off[y]! || len[x]! - len[y]! || kind[x]! - kind[y]! || site[x]! - site[y]! || segOf[x]! - segOf[y]!);
    const pool = new Uint32Array(m);
    for (let k = 0; k < m; k++) pool[k] = segOf[order[k]!]!;
    const slot = clocks.slotOf(t);
    let list: RunGroup[] = [];
    let lastBuf = -1;
    for (let k = 0; k < m; ) {
      const x = order[k]!;
      let e = k + 1;
      while (e < m) {
        const y = order[e]!;
        if (buf[y] !== buf[x] || off[y] !== off[x] || len[y] !== len[x] || kind[y] !== kind[x] || site[y] !== site[x]) break;
        e++;
      }
      if (buf[x] !== lastBuf) {
        lastBuf = buf[x]!;
        const id = index.bufferId(t, lastBuf);
        list = out.get(id) ?? [];
        out.set(id, list);
      }
      const buffer = index.bufferId(t, buf[x]!);
      list.push({ thread: t, slot, buffer, off: off[x]!, end: off[x]! + len[x]!, kind: kind[x]!, site: site[x]!, segs: pool.subarray(k, e) });
      k = e;
    }
  }
  return out;
}

/** Sweeps one buffer's groups in range order, comparing each with the groups it overlaps. */
function sweep(groups: RunGroup[], clocks: ProcessClocks, index: RunIndex, pending: Map<string, PendingRace>): void {
  groups.sort((x, y) => x.off - y.off || x.end - y.end || x.thread.tid - y.thread.tid || x.kind - y.kind || x.site - y.site);
  const active: RunGroup[] = [];
  for (const g of groups) {
    let n = 0;
    for (const a of active) if (a.end > g.off) active[n++] = a;
    active.length = n;
    for (const a of active) {
      if (a.thread === g.thread) continue;
      if (!isWrite(a.kind) && !isWrite(g.kind)) continue;
      if (isAtomic(a.kind) && isAtomic(g.kind)) continue;
      const n = concurrentPairs(a, g, clocks);
      if (n > 0) fold(a, g, n, index, pending);
    }
    active.push(g);
  }
}

/** Number of (run of a, run of b) pairs unordered by happens-before. */
function concurrentPairs(a: RunGroup, b: RunGroup, clocks: ProcessClocks): number {
  const i = a.slot;
  const j = b.slot;
  const as = a.segs;
  let total = 0;
  for (const sb of b.segs) {
    const vbi = clocks.clock(sb, i);
    const eb = clocks.clock(sb, j);
    // a ≤ b  ⇔ epoch(a) ≤ Vb[i]: the runs after `lo` are not before b.
    const lo = lowerBound(as.length, (k) => clocks.clock(as[k]!, i) > vbi);
    // b ≤ a  ⇔ eb ≤ Va[j]: the runs from `hi` on come after b.
    const hi = lowerBound(as.length, (k) => clocks.clock(as[k]!, j) >= eb);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

/** First k in [0, n) where the monotone predicate holds (n when it never does). */
function lowerBound(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Adds n racing pairs between groups a and b to the report of their site pair. */
function fold(a: RunGroup, b: RunGroup, n: number, index: RunIndex, pending: Map<string, PendingRace>): void {
  const sa = { group: a, site: index.site(a.thread, a.site) };
  const sb = { group: b, site: index.site(b.thread, b.site) };
  const ka = sa.site ? siteKey(sa.site) : `${a.thread.key}#${a.site}`;
  const kb = sb.site ? siteKey(sb.site) : `${b.thread.key}#${b.site}`;
  const [first, second] = ka <= kb ? [sa, sb] : [sb, sa];
  const key = `${a.buffer}|${ka <= kb ? ka : kb}|${ka <= kb ? kb : ka}`;
  const lo = Math.max(a.off, b.off);
  const hi = Math.min(a.end, b.end);
  const ww = isWrite(a.kind) && isWrite(b.kind);
  const p = pending.get(key);
  if (!p) {
    pending.set(key, { a: first, b: second, writeWrite: ww, count: n, lo, hi, buffer: a.buffer });
    return;
  }
  p.count += n;
  p.lo = Math.min(p.lo, lo);
  p.hi = Math.max(p.hi, hi);
  // Keep the most telling representative: write-write over read-write, then lowest thread ids.
  const better = (ww && !p.writeWrite) || (ww === p.writeWrite && threadPair(first, second) < threadPair(p.a, p.b));
  if (better) {
    p.a = first;
    p.b = second;
  }
  p.writeWrite ||= ww;
}

function threadPair(x: { group: RunGroup }, y: { group: RunGroup }): number {
  const s = [x.group.thread.id, y.group.thread.id].sort((m, n) => m - n);
  return s[0]! * 1e6 + s[1]!;
}

function toReport(p: PendingRace, index: RunIndex): RaceReport {
  const access = (x: { group: RunGroup; site: ResolvedSite | null }): RaceAccess => ({
    threadId: x.group.thread.id,
    op: OPS[x.group.kind] ?? 'read',
    file: x.site?.file ?? '<unknown>',
    line: x.site?.line ?? 0,
    column: x.site?.column ?? 0,
    stack: index.stack(x.group.thread, x.group.site),
    threadCreatedAt: index.createdAt(x.group.thread),
  });
  const accesses = [access(p.a), access(p.b)].sort(compareAccess);
  const bufferInfo = index.bufferInfo(p.buffer);
  if (bufferInfo.elementType === null) {
    // Nothing on the allocation line: take the view type both accesses go through, if they agree.
    const [ta, tb] = [p.a.site, p.b.site].map((s) => (s ? index.viewTypeAt(s) : null));
    if (ta && ta === tb) bufferInfo.elementType = ta;
  }
  return {
    kind: p.writeWrite ? 'write-write' : 'read-write',
    buffer: p.buffer,
    byteOffset: p.lo,
    byteLength: p.hi - p.lo,
    count: p.count,
    bufferInfo,
    accesses,
  };
}

function compareAccess(x: RaceAccess, y: RaceAccess): number {
  return x.file.localeCompare(y.file) || x.line - y.line || x.column - y.column || x.threadId - y.threadId || x.op.localeCompare(y.op);
}

function compareReports(x: RaceReport, y: RaceReport): number {
  for (let k = 0; k < 2; k++) {
    const c = compareAccess(x.accesses[k]!, y.accesses[k]!);
    if (c) return c;
  }
  return x.buffer.localeCompare(y.buffer) || x.byteOffset - y.byteOffset;
}
