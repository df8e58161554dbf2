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
import { lowerBound } from './search';

const OPS: RaceAccess['op'][] = ['read', 'write', 'atomic-read', 'atomic-write'];
const isWrite = (kind: number): boolean => kind === 1 || kind === 3;
const isAtomic = (kind: number): boolean => kind >= 2;

/** Runs of one thread on one (buffer, range) by one site and kind (made for the reports only). */
interface RunGroup {
  thread: LoadedThread;
  buffer: string;
  off: number;
  end: number;
  kind: number;
  site: number;
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
    for (const block of groups.byBuffer()) sweep(groups, block, clocks, index, pending);
  }
  return [...pending.values()].map((p) => toReport(p, index)).sort(compareReports);
}

/**
 * Every run group of one process, columnar: a thread's runs of one (buffer, range, kind, site)
 * with their segments (global indices into ProcessClocks, in program order, possibly repeated)
 * at pool[from, to) of the thread. An object and a subarray per group ran a 100 MB buffer
 * touched at random (17.5M distinct runs) out of heap; here a group costs 41 bytes.
 */
class GroupTable {
  n = 0;
  readonly thread: Uint32Array;
  readonly buffer: Uint32Array;
  readonly off: Float64Array;
  readonly end: Float64Array;
  readonly kind: Uint8Array;
  readonly site: Float64Array;
  readonly from: Uint32Array;
  readonly to: Uint32Array;
  readonly pools: Uint32Array[] = [];
  readonly bufferIds: string[] = [];
  private readonly bufferIdx = new Map<string, number>();

  constructor(
    readonly threads: LoadedThread[],
    readonly slots: number[],
    cap: number,
  ) {
    this.thread = new Uint32Array(cap);
    this.buffer = new Uint32Array(cap);
    this.off = new Float64Array(cap);
    this.end = new Float64Array(cap);
    this.kind = new Uint8Array(cap);
    this.site = new Float64Array(cap);
    this.from = new Uint32Array(cap);
    this.to = new Uint32Array(cap);
  }

  bufferIndex(id: string): number {
    let b = this.bufferIdx.get(id);
    if (b === undefined) {
      b = this.bufferIds.length;
      this.bufferIds.push(id);
      this.bufferIdx.set(id, b);
    }
    return b;
  }

  add(thread: number, buffer: number, off: number, end: number, kind: number, site: number, from: number, to: number): void {
    const g = this.n++;
    this.thread[g] = thread;
    this.buffer[g] = buffer;
    this.off[g] = off;
    this.end[g] = end;
    this.kind[g] = kind;
    this.site[g] = site;
    this.from[g] = from;
    this.to[g] = to;
  }

  /** The groups of each buffer (buffers by id), each in range order. */
  *byBuffer(): Generator<Uint32Array> {
    const rank = new Uint32Array(this.bufferIds.length);
    [...this.bufferIds.keys()].sort((x, y) => (this.bufferIds[x]! < this.bufferIds[y]! ? -1 : 1)).forEach((b, r) => (rank[b] = r));
    const order = new Uint32Array(this.n);
    for (let g = 0; g < this.n; g++) order[g] = g;
    const { buffer, off, end, thread, kind, site } = this;
    const tid = this.threads.map((t) => t.tid);
    order.sort(
      (x, y) =>
        rank[buffer[x]!]! - rank[buffer[y]!]! ||
        off[x]! - off[y]! ||
        end[x]! - end[y]! ||
        tid[thread[x]!]! - tid[thread[y]!]! ||
        kind[x]! - kind[y]! ||
        site[x]! - site[y]! ||
        x - y,
    );
    for (let k = 0; k < order.length; ) {
      let e = k + 1;
      while (e < order.length && buffer[order[e]!] === buffer[order[k]!]) e++;
      yield order.subarray(k, e);
      k = e;
    }
  }

  group(g: number): RunGroup {
    const thread = this.threads[this.thread[g]!]!;
    return { thread, buffer: this.bufferIds[this.buffer[g]!]!, off: this.off[g]!, end: this.end[g]!, kind: this.kind[g]!, site: this.site[g]! };
  }
}

/** Groups every access run of every thread of one process. */
function buildGroups(threads: LoadedThread[], clocks: ProcessClocks, index: RunIndex): GroupTable {
  const table = new GroupTable(
    threads,
    threads.map((t) => clocks.slotOf(t)),
    threads.reduce((sum, t) => sum + t.segs.accesses, 0),
  );
  threads.forEach((t, ti) => {
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
    const order = new Uint32Array(m);
    for (let k = 0; k < m; k++) order[k] = k;
    order.sort((x, y) => buf[x]! - buf[y]! || off[x]! - off[y]! || len[x]! - len[y]! || kind[x]! - kind[y]! || site[x]! - site[y]! || segOf[x]! - segOf[y]!);
    const pool = new Uint32Array(m);
    for (let k = 0; k < m; k++) pool[k] = segOf[order[k]!]!;
    table.pools.push(pool);
    let lastBuf = -1;
    let b = -1;
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
        b = table.bufferIndex(index.bufferId(t, lastBuf));
      }
      table.add(ti, b, off[x]!, off[x]! + len[x]!, kind[x]!, site[x]!, k, e);
      k = e;
    }
  });
  return table;
}

/** Sweeps one buffer's groups (in range order), comparing each with the groups it overlaps. */
function sweep(t: GroupTable, groups: Uint32Array, clocks: ProcessClocks, index: RunIndex, pending: Map<string, PendingRace>): void {
  const active: number[] = [];
  for (const g of groups) {
    let n = 0;
    for (const a of active) if (t.end[a]! > t.off[g]!) active[n++] = a;
    active.length = n;
    for (const a of active) {
      if (t.thread[a] === t.thread[g]) continue;
      if (!isWrite(t.kind[a]!) && !isWrite(t.kind[g]!)) continue;
      if (isAtomic(t.kind[a]!) && isAtomic(t.kind[g]!)) continue;
      const n = concurrentPairs(t, a, g, clocks);
      if (n > 0) fold(t.group(a), t.group(g), n, index, pending);
    }
    active.push(g);
  }
}

/** Number of (run of a, run of b) pairs unordered by happens-before. */
function concurrentPairs(t: GroupTable, a: number, b: number, clocks: ProcessClocks): number {
  const i = t.slots[t.thread[a]!]!;
  const j = t.slots[t.thread[b]!]!;
  const as = t.pools[t.thread[a]!]!;
  const bs = t.pools[t.thread[b]!]!;
  const a0 = t.from[a]!;
  const na = t.to[a]! - a0;
  let total = 0;
  for (let k = t.from[b]!; k < t.to[b]!; k++) {
    const sb = bs[k]!;
    const vbi = clocks.clock(sb, i);
    const eb = clocks.clock(sb, j);
    // a ≤ b  ⇔ epoch(a) ≤ Vb[i]: the runs after `lo` are not before b.
    const lo = lowerBound(na, (x) => clocks.clock(as[a0 + x]!, i) > vbi);
    // b ≤ a  ⇔ eb ≤ Va[j]: the runs from `hi` on come after b.
    const hi = lowerBound(na, (x) => clocks.clock(as[a0 + x]!, j) >= eb);
    if (hi > lo) total += hi - lo;
  }
  return total;
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
