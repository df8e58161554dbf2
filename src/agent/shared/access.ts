/**
 * Element accesses to shared typed arrays: the methods the transform calls (`__ppM.r(a, i, 7)`
 * returns i after noting the read), the same-segment fast path, and the segment being built.
 *
 * Fast path: each view gets a hidden tag (buffer state, first element index, same-segment
 * stamp arrays for its element size); an access whose element already carries this segment's
 * stamp costs one compare. Non-shared views are tagged null and exit at once.
 */
import { AccessKind, SITE_FID_SCALE } from '../../protocol/events';
import type { AgentContext } from '../extension';
import type { BufferRegistry, BufferState } from './buffers';
import type { SegmentSink, VectorClock } from './clock';
import { DV_SIZE, READ_ALL, WRITE_ALL } from './methods';

/** The per-view tag. */
interface ViewTag {
  b: BufferState;
  /** Index of the view's first element among elements of its size in the buffer. */
  base: number;
  bpe: number;
  r: Int32Array;
  w: Int32Array;
}

const VT = Symbol('parprof.view');
const isView = ArrayBuffer.isView;
const EMPTY = new Int32Array(0);
/** Segment entries kept before a partial segment record is written (bounds memory). */
const SEG_FLUSH = 1 << 18;

/** Current segment generation (stamp value); 0 is never a live generation. */
let seg = 1;
/** Accesses are being recorded (race detection on, thread has a clock slot, segment sampled). */
let on = false;

let ctx: AgentContext | null = null;
let registry: BufferRegistry | null = null;
let clock: VectorClock | null = null;
let enabled = false;
let sampleRate = 1;
let sampledSeg = true;
let capBytes = Infinity;
let shadowBytes = 0;
let degraded = false;
const seenSites = new Set<number>();

// The segment being built (columnar, growable typed arrays: no per-access garbage).
let cap = 1024;
let sBuf = new Int32Array(cap);
let sOff = new Float64Array(cap);
let sLen = new Float64Array(cap);
let sKind = new Int32Array(cap);
let sSite = new Float64Array(cap);
let sN = 0;
let partial = false;

function grow(): void {
  cap *= 2;
  const g = <T extends Int32Array | Float64Array>(a: T): T => {
    const b = new (a.constructor as any)(cap) as T;
    b.set(a);
    return b;
  };
  sBuf = g(sBuf);
  sOff = g(sOff);
  sLen = g(sLen);
  sKind = g(sKind);
  sSite = g(sSite);
}

/** Pending writes (`a[k] = rhs-with-calls`): recorded when the right side has been evaluated. */
const pend: { m: { fid: number }; a: unknown; i: unknown; s: number }[] = [];

/** Wire the access recorder to this thread (races on or off). */
export function initAccess(c: AgentContext, reg: BufferRegistry, vc: VectorClock, races: boolean): void {
  ctx = c;
  registry = reg;
  clock = vc;
  enabled = races && vc.valid;
  sampleRate = c.options.raceSample && c.options.raceSample > 0 && c.options.raceSample < 1 ? c.options.raceSample : 1;
  capBytes = c.options.shadowCapMiB > 0 ? c.options.shadowCapMiB * 1024 * 1024 : Infinity;
  beginSegment();
}

/** The segment sink the vector clock drives. */
export const segmentSink: SegmentSink = { end: endSegment, begin: beginSegment };

function beginSegment(): void {
  seg++;
  if (seg > 0x3fffffff) seg = 1; // stamps from 2^30 segments ago could alias; practically never
  sampledSeg = sampleRate >= 1 || Math.random() < sampleRate;
  on = enabled && sampledSeg;
}

function endSegment(): void {
  if (sN > 0) emitSegment();
}

/**
 * The last segment, not yet written: a segment with the same runs whose clock moved only in this
 * thread's own entry (a loop of Atomics operations, or the same accesses under an uncontended
 * lock) extends it instead of adding a record. Keeping the newest own epoch is exact for race
 * checks: an access of another thread races with one of the merged accesses iff it races with
 * the newest.
 */
let held: import('../../protocol/events').SegmentRecord | null = null;

function sameRuns(a: import('../../protocol/events').SegmentRecord, b: import('../../protocol/events').SegmentRecord): boolean {
  if (a.self !== b.self || a.sampled !== b.sampled || a.buf.length !== b.buf.length || a.vc.length !== b.vc.length) return false;
  for (let i = 0; i < a.buf.length; i++) {
    if (a.buf[i] !== b.buf[i] || a.off[i] !== b.off[i] || a.len[i] !== b.len[i] || a.kind[i] !== b.kind[i] || a.site[i] !== b.site[i]) return false;
  }
  for (let k = 0; k < a.vc.length; k += 2) {
    if (a.vc[k] !== b.vc[k] || (a.vc[k] !== a.self && a.vc[k + 1] !== b.vc[k + 1])) return false;
  }
  return true;
}

/** Write the current segment's runs (merged) with the clock it ran under; keeps the stamps. */
export function emitSegment(): void {
  if (!ctx || !clock || sN === 0) return;
  const n = sN;
  let runs: { buf: number[]; off: number[]; len: number[]; kind: number[]; site: number[] };
  if (n > 16) runs = mergeRuns(n);
  else {
    runs = { buf: [], off: [], len: [], kind: [], site: [] };
    for (let i = 0; i < n; i++) {
      runs.buf.push(sBuf[i]!);
      runs.off.push(sOff[i]!);
      runs.len.push(sLen[i]!);
      runs.kind.push(sKind[i]!);
      runs.site.push(sSite[i]!);
    }
  }
  const rec: import('../../protocol/events').SegmentRecord = { k: 'seg', self: clock.self, vc: clock.sparse(), ...runs };
  if (partial || degraded) rec.sampled = false;
  if (held && sameRuns(held, rec)) held.vc = rec.vc;
  else {
    if (held) ctx.write(held);
    held = rec;
  }
  shadowBytes -= n * 32;
  sN = 0;
  partial = false;
}

/** Write every segment this thread has (before a flush of the event file). */
export function flushSegments(): void {
  emitSegment();
  if (held && ctx) ctx.write(held);
  held = null;
}

/** Sort the n runs by (buf, kind, site, off) and merge overlapping/adjacent ones. */
function mergeRuns(n: number) {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const buf = sBuf;
  const kind = sKind;
  const site = sSite;
  const off = sOff;
  const len = sLen;
  order.sort((x, y) => buf[x]! - buf[y]! || kind[x]! - kind[y]! || site[x]! - site[y]! || off[x]! - off[y]!);
  const o = { buf: [] as number[], off: [] as number[], len: [] as number[], kind: [] as number[], site: [] as number[] };
  let last = -1;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    if (last >= 0 && o.buf[last] === buf[i] && o.kind[last] === kind[i] && o.site[last] === site[i] && o.off[last]! + o.len[last]! >= off[i]!) {
      const end = Math.max(o.off[last]! + o.len[last]!, off[i]! + len[i]!);
      o.len[last] = end - o.off[last]!;
      continue;
    }
    o.buf.push(buf[i]!);
    o.off.push(off[i]!);
    o.len.push(len[i]!);
    o.kind.push(kind[i]!);
    o.site.push(site[i]!);
    last++;
  }
  return o;
}

/** Note a site's stack the first time this thread sees it. */
export function noteSite(site: number): void {
  if (seenSites.has(site) || !ctx) return;
  seenSites.add(site);
  try {
    ctx.write({ k: 'stack', site, frames: ctx.captureStack(0) });
  } catch {
    /* a stack is a nicety */
  }
}

/** Append one access run to the current segment (coalescing with the previous run). */
export function recordRange(b: number, off: number, len: number, kind: number, site: number): void {
  if (!on || len <= 0) return;
  const n = sN;
  if (n > 0) {
    const j = n - 1;
    if (sBuf[j] === b && sKind[j] === kind && sSite[j] === site) {
      const o = sOff[j]!;
      const l = sLen[j]!;
      if (o + l === off) {
        sLen[j] = l + len;
        return;
      }
      if (off + len === o) {
        sOff[j] = off;
        sLen[j] = l + len;
        return;
      }
      if (off >= o && off + len <= o + l) return;
    }
  }
  if (!seenSites.has(site)) noteSite(site);
  if (n === cap) grow();
  sBuf[n] = b;
  sOff[n] = off;
  sLen[n] = len;
  sKind[n] = kind;
  sSite[n] = site;
  sN = n + 1;
  shadowBytes += 32;
  if (n + 1 >= SEG_FLUSH) {
    partial = true;
    emitSegment();
    checkCap();
  }
}

/** Shadow memory beyond the cap: degrade to sampling, once, with a warning. */
function checkCap(): boolean {
  if (shadowBytes <= capBytes) return true;
  if (!degraded && ctx) {
    degraded = true;
    sampleRate = Math.min(sampleRate, 0.05);
    ctx.write({ k: 'warn', msg: `race detection: shadow memory passed the cap of ${ctx.options.shadowCapMiB} MiB in thread ${ctx.tid}; sampling 5% of segments from here` });
  }
  return false;
}

/** Stamps of (buffer, kind, element size), allocated on first use within the cap. */
function stampsFor(b: BufferState, kind: number, bpe: number): Int32Array {
  const k = kind * 9 + bpe;
  const have = b.stamps[k];
  if (have) return have;
  if (have === null) return EMPTY;
  const n = Math.floor(b.byteLength / bpe);
  shadowBytes += n * 4;
  if (!checkCap()) {
    shadowBytes -= n * 4;
    b.stamps[k] = null;
    return EMPTY;
  }
  const arr = new Int32Array(n);
  b.stamps[k] = arr;
  return arr;
}

/** Tag a view (null for views over non-shared memory and DataViews). */
function tagView(a: ArrayBufferView): ViewTag | null {
  let tag: ViewTag | null = null;
  const buffer = a.buffer;
  const bpe = (a as any).BYTES_PER_ELEMENT as number | undefined;
  if (buffer instanceof SharedArrayBuffer && typeof bpe === 'number' && registry) {
    const b = registry.get(buffer);
    tag = { b, base: a.byteOffset / bpe, bpe, r: stampsFor(b, 0, bpe), w: stampsFor(b, 1, bpe) };
  }
  try {
    Object.defineProperty(a, VT, { value: tag, writable: true, configurable: true, enumerable: false });
  } catch {
    /* non-extensible view: stays on the slow path */
  }
  return tag;
}

function tagOf(a: ArrayBufferView): ViewTag | null {
  const t = (a as any)[VT] as ViewTag | null | undefined;
  return t === undefined ? tagView(a) : t;
}

/** Slow path of an element access: validate the index, stamp, record. */
function slowElement(m: { fid: number }, a: ArrayBufferView, key: unknown, s: number, kind: number): void {
  const t = tagOf(a);
  if (t === null) return;
  let i: number;
  if (typeof key === 'number') i = key;
  else if (typeof key === 'string' && key !== '' && String(Number(key)) === key) i = Number(key);
  else return;
  if (!Number.isInteger(i) || i < 0 || i >= (a as any).length) return;
  const si = t.base + i;
  const stamps = kind === AccessKind.Read ? t.r : t.w;
  if (si < stamps.length) stamps[si] = seg;
  recordRange(t.b.idx, a.byteOffset + i * t.bpe, t.bpe, kind, m.fid * SITE_FID_SCALE + s);
}

/** `a[i]` read: returns i. */
function r(this: { fid: number }, a: any, i: any, s: number): any {
  if (on && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null) {
      if (typeof i === 'number' && t !== undefined && t.r[t.base + i] === seg) return i;
      slowElement(this, a, i, s, AccessKind.Read);
    }
  }
  return i;
}

/** `a[i] = v` write (right side cannot synchronise): returns i. */
function w(this: { fid: number }, a: any, i: any, s: number): any {
  if (on && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null) {
      if (typeof i === 'number' && t !== undefined && t.w[t.base + i] === seg) return i;
      slowElement(this, a, i, s, AccessKind.Write);
    }
  }
  return i;
}

/** `a[i] op= v`, `a[i]++`: read and write; returns i. */
function rw(this: { fid: number }, a: any, i: any, s: number): any {
  if (on && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null) {
      if (typeof i === 'number' && t !== undefined && t.w[t.base + i] === seg && t.r[t.base + i] === seg) return i;
      slowElement(this, a, i, s, AccessKind.Read);
      slowElement(this, a, i, s, AccessKind.Write);
    }
  }
  return i;
}

/** Key of a write whose right side may synchronise (calls, await): the write is noted by wv. */
function wk(this: { fid: number }, a: any, i: any, s: number, alsoRead?: number): any {
  if (alsoRead) r.call(this, a, i, s);
  if (pend.length > 64) pend.splice(0, 32); // keys of right sides that threw
  pend.push({ m: this, a, i, s });
  return i;
}

/** Value of such a write: records the write now (after the right side ran); returns v. */
function wv(this: { fid: number }, v: any, s: number): any {
  for (let k = pend.length - 1, stop = Math.max(0, pend.length - 8); k >= stop; k--) {
    const p = pend[k]!;
    if (p.s === s && p.m === this) {
      pend.splice(k, 1);
      w.call(this, p.a, p.i, s);
      break;
    }
  }
  return v;
}

/** `new SharedArrayBuffer(n)`: names the buffer here with its allocation site; returns it. */
function sab(this: { fid: number }, buf: any, s: number): any {
  if (buf instanceof SharedArrayBuffer && registry) {
    const site = this.fid * SITE_FID_SCALE + s;
    if (!registry.peek(buf)) {
      noteSite(site);
      registry.add(buf, null, site);
    }
  }
  return buf;
}

// ---- Whole-array methods and DataView ----

/** Relative index as the typed-array methods normalise it (numbers only; else null = unknown). */
function rel(x: unknown, len: number, dflt: number): number | null {
  if (x === undefined) return dflt;
  if (typeof x !== 'number') return null;
  const n = Number.isNaN(x) ? 0 : Math.trunc(x);
  return n < 0 ? Math.max(len + n, 0) : Math.min(n, len);
}

function viewRange(m: { fid: number }, a: ArrayBufferView, from: number, to: number, kind: number, s: number): void {
  const t = tagOf(a);
  if (t === null || to <= from) return;
  recordRange(t.b.idx, a.byteOffset + from * t.bpe, (to - from) * t.bpe, kind, m.fid * SITE_FID_SCALE + s);
}

/** Note the byte ranges a typed-array method or DataView get/set call touches. */
function noteMethod(m: { fid: number }, o: ArrayBufferView, name: string, args: unknown[], s: number): void {
  if (o instanceof DataView) {
    const get = name.startsWith('get');
    const size = DV_SIZE[name.slice(3)];
    const at = args[0];
    if (!size || typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at + size > o.byteLength) return;
    if (!(o.buffer instanceof SharedArrayBuffer) || !registry) return;
    const b = registry.get(o.buffer);
    recordRange(b.idx, o.byteOffset + at, size, get ? AccessKind.Read : AccessKind.Write, m.fid * SITE_FID_SCALE + s);
    return;
  }
  const len = (o as any).length as number;
  if (typeof len !== 'number') return;
  const R = AccessKind.Read;
  const W = AccessKind.Write;
  if (WRITE_ALL.has(name)) {
    viewRange(m, o, 0, len, R, s);
    viewRange(m, o, 0, len, W, s);
  } else if (READ_ALL.has(name)) {
    viewRange(m, o, 0, len, R, s);
  } else if (name === 'fill') {
    const a = rel(args[1], len, 0);
    const b = rel(args[2], len, len);
    if (a !== null && b !== null) viewRange(m, o, a, b, W, s);
  } else if (name === 'slice') {
    const a = rel(args[0], len, 0);
    const b = rel(args[1], len, len);
    if (a !== null && b !== null) viewRange(m, o, a, b, R, s);
  } else if (name === 'at' || name === 'with') {
    const i = rel(args[0], len, 0);
    if (i !== null && i < len) viewRange(m, o, 0, len, R, s); // `with` copies the whole array
  } else if (name === 'copyWithin') {
    const to = rel(args[0], len, 0);
    const from = rel(args[1], len, 0);
    const end = rel(args[2], len, len);
    if (to === null || from === null || end === null) return;
    const count = Math.min(end - from, len - to);
    if (count <= 0) return;
    viewRange(m, o, from, from + count, R, s);
    viewRange(m, o, to, to + count, W, s);
  } else if (name === 'set') {
    const src = args[0];
    const at = args[1] === undefined ? 0 : args[1];
    if (typeof at !== 'number' || !Number.isInteger(at) || at < 0) return;
    let n: number;
    if (isView(src)) n = (src as any).length;
    else if (Array.isArray(src)) n = src.length;
    else return;
    if (typeof n !== 'number' || at + n > len) return;
    if (isView(src) && !(src instanceof DataView)) viewRange(m, src, 0, n, R, s);
    viewRange(m, o, at, at + n, W, s);
  }
}

/** `o.name(...args)` for range methods: records the ranges when o is a shared view, then calls. */
function tm(this: { fid: number }, s: number, o: any, name: string, ...args: unknown[]): any {
  if (on && isView(o)) {
    try {
      noteMethod(this, o, name, args, s);
    } catch {
      /* never let recording break the call */
    }
  }
  return Reflect.apply(o[name], o, args);
}

/** Per hoisted-loop site: the index ranges already recorded in the current segment. */
interface LoopCache {
  seg: number;
  stride: number;
  count: number;
  firsts: Map<number, number>;
}

/**
 * A loop's accesses `X[f(k)]` for k = lo, lo+1, … while k < hi (≤ hi when incl), hoisted out of
 * the loop by the transform (BigFoot): f is affine in k (the transform passes f(lo) and f(lo+1))
 * and the loop body cannot synchronise, so all of them belong to the current segment. One call
 * per loop run instead of one per access; a range this site already recorded in this segment
 * costs a map lookup.
 */
function lp(
  this: { fid: number; hc?: (LoopCache | undefined)[] },
  x: any, i0: number, i1: number, lo: number, hi: number, incl: number, s: number, kind: number,
): void {
  if (!on || !isView(x) || typeof lo !== 'number' || typeof hi !== 'number' || !Number.isInteger(i0)) return;
  const count = incl ? Math.floor(hi - lo) + 1 : Math.ceil(hi - lo);
  if (!(count > 0)) return;
  const stride = count > 1 ? i1 - i0 : 0;
  if (!Number.isInteger(stride)) return;
  const hc = (this.hc ??= []);
  let c = hc[s];
  if (c === undefined || c.seg !== seg || c.stride !== stride || c.count !== count) {
    c = { seg, stride, count, firsts: new Map() };
    hc[s] = c;
  } else if (c.firsts.has(i0)) return;
  c.firsts.set(i0, 1);
  loopRange(this.fid, x, i0, stride, count, s, kind);
}

function loopRange(fid: number, x: any, i0: number, stride: number, count: number, s: number, kind: number): void {
  const t = tagOf(x);
  if (t === null) return;
  const len = (x as any).length as number;
  const site = fid * SITE_FID_SCALE + s;
  for (let pass = 0; pass < 2; pass++) {
    const k = kind === 2 ? (pass === 0 ? AccessKind.Read : AccessKind.Write) : kind;
    if (pass === 1 && kind !== 2) return;
    if (stride === 1 || stride === -1 || stride === 0) {
      const last = i0 + stride * (count - 1);
      const from = Math.max(0, Math.min(i0, last));
      const to = Math.min(len - 1, Math.max(i0, last));
      if (to >= from) recordRange(t.b.idx, x.byteOffset + from * t.bpe, (to - from + 1) * t.bpe, k, site);
      continue;
    }
    const stamps = k === AccessKind.Read ? t.r : t.w;
    for (let j = 0, i = i0; j < count; j++, i += stride) {
      if (i < 0 || i >= len) continue;
      const si = t.base + i;
      if (si < stamps.length) {
        if (stamps[si] === seg) continue;
        stamps[si] = seg;
      }
      recordRange(t.b.idx, x.byteOffset + i * t.bpe, t.bpe, k, site);
    }
  }
}

/** `...x` or `for (… of x)` (body cannot synchronise or leave early): reads the whole view; returns x. */
function it(this: { fid: number }, x: any, s: number): any {
  if (on && isView(x) && !(x instanceof DataView)) viewRange(this, x, 0, (x as any).length, AccessKind.Read, s);
  return x;
}

/** Methods placed on every module runtime object (`__ppM`). */
export const accessMethods = { r, w, rw, wk, wv, sab, tm, lp, it };

/** Record an Atomics access (atomic kinds) at a byte range. */
export function recordAtomic(b: BufferState, off: number, len: number, write: boolean, site: number): void {
  recordRange(b.idx, off, len, write ? AccessKind.AtomicWrite : AccessKind.AtomicRead, site);
}

/** Whether accesses are currently recorded. */
export function recording(): boolean {
  return on;
}
