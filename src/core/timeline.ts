/**
 * The columnar thread timeline: running / idle / GC slices from CPU samples (consecutive
 * samples of one state and stack merged into one slice), blocked slices from `Atomics.wait`
 * records and GC slices from GC records laid over them, plus message arrows from `msg` records.
 */
import { AtomOp } from '../protocol/events';
import { ThreadState, type StackTable, type TimelineData } from '../protocol/report';
import { isAgentFile, PROFILER_FRAME, urlToFile, type FunctionIdentities } from './functions';
import { NodeKind, type ParsedProfile } from './profile';
import type { LoadedThread } from './runData';
import { lowerBound } from './search';

/** Interned call stacks over function identities (frame index = identity index). */
export class StackInterner {
  readonly stacks: number[][] = [];
  private readonly keys = new Map<string, number>();

  /** Stack id of `parent` + `frame` (parent -1 = empty stack). */
  push(parent: number, frame: number): number {
    const key = `${parent},${frame}`;
    let id = this.keys.get(key);
    if (id === undefined) {
      id = this.stacks.length;
      this.keys.set(key, id);
      this.stacks.push(parent >= 0 ? [...this.stacks[parent]!, frame] : [frame]);
    }
    return id;
  }

  /** The report's stack table. */
  table(ids: FunctionIdentities): StackTable {
    const frames: [string, string, number][] = [];
    for (let i = 0; i < ids.size; i++) frames.push([ids.name[i]!, ids.file[i]!, ids.line[i]!]);
    return { frames, stacks: this.stacks };
  }
}

/** Stack id of every node of a chunk (-1 for root, idle and GC nodes). */
export function nodeStacks(p: ParsedProfile, nodeFn: Int32Array, interner: StackInterner, ids: FunctionIdentities): Int32Array {
  const out = new Int32Array(p.parent.length).fill(-1);
  for (let i = 0; i < out.length; i++) {
    const k = p.kind[i]!;
    if (k === NodeKind.Root || k === NodeKind.Idle || k === NodeKind.GC || nodeFn[i]! < 0) continue;
    const par = p.parent[i]!;
    // A run of one frame (the collapsed profiler frame, or the agent's frames folded into the
    // user's caller) stays one frame deep.
    if (par >= 0 && nodeFn[par] === nodeFn[i] && out[par]! >= 0 && (ids.name[nodeFn[i]!] === PROFILER_FRAME || isAgentFile(urlToFile(p.url[i]!)) || p.url[i] === '')) out[i] = out[par]!;
    else out[i] = interner.push(par >= 0 ? out[par]! : -1, nodeFn[i]!);
  }
  return out;
}

/**
 * Per-thread slices in µs, built from samples first, then finished with overlays. Past its
 * budget a thread's slices are summarised: neighbours shorter than `minUs` merge into one
 * slice carrying the longest member's stack, so memory stays bounded on huge profiles.
 */
export class ThreadSlices {
  start: number[] = [];
  end: number[] = [];
  state: number[] = [];
  stack: number[] = [];
  /** Slices shorter than this (µs) were merged to stay within budget; 0 = every slice exact. */
  minUs = 0;
  /** Slices produced before any summarising. */
  rawCount = 0;
  /**
   * Whether summarising had to merge neighbours of different states (a thread that switches
   * between running and idle faster than the budget allows): each merged slice shows its longest
   * part. The thread's state totals never depend on it (see exactTotals).
   */
  crossState = false;
  /** How many times the lane was compacted (a handful even for a huge lane). */
  compactions = 0;
  /** Time (µs) of the raw samples by state, outside the overlays: exact whatever the summarising. */
  readonly sampled: StateTotals = { running: 0, idle: 0, blocked: 0, gc: 0 };
  private ov = 0;

  constructor(
    private readonly budget = Infinity,
    /** Blocked and GC intervals laid over the samples (see threadOverlays). */
    readonly over: Overlays = { start: [], end: [], state: [], label: [] },
  ) {}

  /** Appends one chunk's samples, merging runs of equal state and stack. */
  addSamples(p: ParsedProfile, stackOfNode: Int32Array): void {
    const n = p.sampleNode.length;
    for (let i = 0; i < n; i++) {
      const node = p.sampleNode[i]!;
      const w = p.weightUs[i]!;
      if (node < 0 || w <= 0) continue;
      const k = p.kind[node]!;
      const st = k === NodeKind.Idle ? ThreadState.Idle : k === NodeKind.GC ? ThreadState.GC : ThreadState.Running;
      const sk = st === ThreadState.Running ? stackOfNode[node]! : -1;
      const s = p.fromUs[i]!;
      this.count(s, s + w, st);
      const last = this.start.length - 1;
      if (last >= 0 && this.state[last] === st && this.stack[last] === sk && Math.abs(this.end[last]! - s) < 1) {
        this.end[last] = s + w;
      } else if (
        last >= 0 &&
        this.minUs > 0 &&
        (this.crossState || this.state[last] === st) &&
        Math.abs(this.end[last]! - s) < 1 &&
        this.end[last]! - this.start[last]! < this.minUs
      ) {
        // Summarising: a short slice absorbs its neighbour; the longer part names the state and stack.
        if (w > this.end[last]! - this.start[last]!) {
          this.stack[last] = sk;
          this.state[last] = st;
        }
        this.end[last] = s + w;
        this.rawCount++;
      } else {
        this.start.push(s);
        this.end.push(s + w);
        this.state.push(st);
        this.stack.push(sk);
        this.rawCount++;
        if (this.start.length > 2 * this.budget) this.compact();
      }
    }
  }

  /** Adds a raw sample's time outside the overlays to its state's total. */
  private count(s: number, e: number, st: number): void {
    const o = this.over;
    while (this.ov < o.start.length && o.end[this.ov]! <= s) this.ov++;
    let d = e - s;
    for (let q = this.ov; q < o.start.length && o.start[q]! < e; q++) d -= Math.max(0, Math.min(e, o.end[q]!) - Math.max(s, o.start[q]!));
    if (st === ThreadState.Running) this.sampled.running += d;
    else if (st === ThreadState.Idle) this.sampled.idle += d;
    else this.sampled.gc += d;
  }

  /** State totals (µs) of the thread: the raw samples outside the overlays plus the overlays. */
  exactTotals(): StateTotals {
    const t = { ...this.sampled };
    const o = this.over;
    for (let i = 0; i < o.start.length; i++) {
      const d = o.end[i]! - o.start[i]!;
      if (o.state[i] === ThreadState.Blocked) t.blocked += d;
      else t.gc += d;
    }
    return t;
  }

  /** Summarises until the slice count fits the budget (call once all samples are in). */
  finish(): void {
    while (this.start.length > this.budget) this.compact();
  }

  /**
   * Doubles the merge threshold and merges short neighbours of one state; when that cannot
   * shrink the lane (states alternate faster than the threshold), neighbours of any state.
   * Without the second pass a lane that alternates would be compacted again on every sample.
   */
  compact(): void {
    const n = this.start.length;
    if (n < 2) return;
    const span = this.end[n - 1]! - this.start[0]!;
    this.minUs = Math.max(this.minUs * 2, span / this.budget, 1);
    this.compactions++;
    this.merge(false);
    if (this.start.length * 4 > n * 3) {
      this.crossState = true;
      this.merge(true);
    }
  }

  private merge(anyState: boolean): void {
    const n = this.start.length;
    let o = 0;
    let bestLen = this.end[0]! - this.start[0]!;
    for (let i = 1; i < n; i++) {
      const len = this.end[i]! - this.start[i]!;
      const contiguous = Math.abs(this.start[i]! - this.end[o]!) < 1;
      if (contiguous && (anyState || this.state[i] === this.state[o]) && this.end[o]! - this.start[o]! < this.minUs) {
        if (len > bestLen) {
          bestLen = len;
          this.stack[o] = this.stack[i]!;
          this.state[o] = this.state[i]!;
        }
        this.end[o] = this.end[i]!;
      } else {
        o++;
        this.start[o] = this.start[i]!;
        this.end[o] = this.end[i]!;
        this.state[o] = this.state[i]!;
        this.stack[o] = this.stack[i]!;
        bestLen = len;
      }
    }
    for (const col of [this.start, this.end, this.state, this.stack]) col.length = o + 1;
  }
}

/** Intervals that override sampled states: blocked (Atomics.wait) and GC. */
export interface Overlays {
  start: number[];
  end: number[];
  state: number[];
  label: string[];
}

/** Blocked and GC intervals of a thread, sorted and made non-overlapping. */
export function threadOverlays(t: LoadedThread): Overlays {
  const items: [number, number, number, string][] = [];
  for (const a of t.atoms) {
    for (let i = 0; i < a.us.length; i++) {
      if (a.op[i] !== AtomOp.Wait || !(a.dur[i]! > 0)) continue;
      const buf = t.bufs.get(a.buf[i]!);
      items.push([a.us[i]!, a.us[i]! + a.dur[i]!, ThreadState.Blocked, `${buf?.id ?? `buffer#${a.buf[i]}`}:${a.off[i]}`]);
    }
  }
  for (const g of t.gc) {
    for (let i = 0; i < g.start.length; i++) if (g.dur[i]! > 0) items.push([g.start[i]!, g.start[i]! + g.dur[i]!, ThreadState.GC, '']);
  }
  items.sort((x, y) => x[0] - y[0]);
  const o: Overlays = { start: [], end: [], state: [], label: [] };
  let lastEnd = -Infinity;
  for (const [s0, e, st, label] of items) {
    const s = Math.max(s0, lastEnd);
    if (e <= s) continue;
    o.start.push(s);
    o.end.push(e);
    o.state.push(st);
    o.label.push(label);
    lastEnd = e;
  }
  return o;
}

/** Per-thread time totals (µs) by state, from the finished slices. */
export interface StateTotals {
  running: number;
  idle: number;
  blocked: number;
  gc: number;
}

/** Columnar timeline under construction for all threads. */
export class TimelineBuilder {
  readonly data: TimelineData = { thread: [], start: [], end: [], state: [], stack: [], label: [], labels: [], wakeups: [] };
  private readonly labelIds = new Map<string, number>();

  constructor(private readonly originUs: number) {}

  private labelId(label: string): number {
    if (!label) return -1;
    let id = this.labelIds.get(label);
    if (id === undefined) {
      id = this.data.labels.length;
      this.labelIds.set(label, id);
      this.data.labels.push(label);
    }
    return id;
  }

  private emit(lane: number, s: number, e: number, st: number, sk: number, label: number): void {
    if (e <= s) return;
    const d = this.data;
    d.thread.push(lane);
    d.start.push((s - this.originUs) / 1000);
    d.end.push((e - this.originUs) / 1000);
    d.state.push(st);
    d.stack.push(sk);
    d.label.push(label);
  }

  /** Adds a thread's lane: sampled slices cut around the overlays, overlays inserted, in time order. */
  addThread(lane: number, base: ThreadSlices): StateTotals {
    const over = base.over;
    let j = 0;
    let k = 0; // next overlay to emit
    const no = over.start.length;
    const emitOverlaysBefore = (t: number) => {
      while (k < no && over.start[k]! <= t) {
        this.emit(lane, over.start[k]!, over.end[k]!, over.state[k]!, -1, this.labelId(over.label[k]!));
        k++;
      }
    };
    for (let i = 0; i < base.start.length; i++) {
      const s = base.start[i]!;
      const e = base.end[i]!;
      while (j < no && over.end[j]! <= s) j++;
      let cur = s;
      for (let q = j; q < no && over.start[q]! < e; q++) {
        if (over.start[q]! > cur) {
          emitOverlaysBefore(cur);
          this.emit(lane, cur, over.start[q]!, base.state[i]!, base.stack[i]!, -1);
        }
        cur = Math.max(cur, over.end[q]!);
      }
      if (cur < e) {
        emitOverlaysBefore(cur);
        this.emit(lane, cur, e, base.state[i]!, base.stack[i]!, -1);
      }
    }
    emitOverlaysBefore(Infinity);
    // From the raw samples: exact even where slices were merged across states.
    return base.exactTotals();
  }
}

/** Time (µs) each lane was sampled idle between two instants (µs since the epoch), from the finished timeline. */
export function idleTimeOf(tl: TimelineData, originUs: number): (lane: number, fromUs: number, toUs: number) => number {
  const lanes = new Map<number, { s: number[]; e: number[]; sum: number[] }>();
  for (let i = 0; i < tl.thread.length; i++) {
    if (tl.state[i] !== ThreadState.Idle) continue;
    let l = lanes.get(tl.thread[i]!);
    if (!l) lanes.set(tl.thread[i]!, (l = { s: [], e: [], sum: [0] }));
    const s = originUs + tl.start[i]! * 1000;
    const e = originUs + tl.end[i]! * 1000;
    l.s.push(s);
    l.e.push(e);
    l.sum.push(l.sum[l.sum.length - 1]! + (e - s));
  }
  // First index whose value is > x (values ascending).
  const after = (a: number[], x: number): number => lowerBound(a.length, (k) => a[k]! > x);
  return (lane, fromUs, toUs) => {
    const l = lanes.get(lane);
    if (!l || toUs <= fromUs) return 0;
    const i = after(l.e, fromUs); // first idle interval ending after `from`
    const j = after(l.s, toUs - 1e-9) - 1; // last one starting before `to`
    if (j < i) return 0;
    let t = l.sum[j + 1]! - l.sum[i]!;
    t -= Math.max(0, fromUs - l.s[i]!);
    t -= Math.max(0, l.e[j]! - toUs);
    return Math.max(0, t);
  };
}
