/**
 * The segment being recorded in this thread: each synchronisation-free segment's accesses as
 * coalesced byte runs (columnar typed arrays, no per-access garbage), written with the clock
 * the segment ran under; the per-view tags and same-segment stamps the fast paths check.
 *
 * A stamp is the segment in the high bits and a hash of the site in the low 8: an access whose
 * element already carries this segment's stamp for this site costs one compare, and a second
 * line touching the element in the same segment is still recorded (its race is a report of its
 * own). Each element has two stamps (the second allocated only for buffers that need it), so two
 * lines taking turns on the same elements (`if (a[i] > m) s += a[i]`) both stay on the fast
 * path. Non-shared views are tagged null and exit at once.
 */
import { AccessKind, type SegmentBatchRecord, type SegmentRecord } from '../../protocol/events';
import type { AgentContext } from '../extension';
import type { BufferRegistry, BufferState } from './buffers';
import type { SegmentSink, VectorClock } from './clock';

/** The per-view tag. */
export interface ViewTag {
  b: BufferState;
  /** Index of the view's first element among elements of its size in the buffer. */
  base: number;
  bpe: number;
  r: Int32Array;
  w: Int32Array;
  /** Second stamps (a second line touching the element in the segment), made on first need. */
  r2: Int32Array;
  w2: Int32Array;
}

export const VT = Symbol('parprof.view');
export const isView = ArrayBuffer.isView;
const EMPTY = new Int32Array(0);
/** Segment entries kept before a partial segment record is written (bounds memory). */
const SEG_FLUSH = 1 << 18;

/** Current segment generation; 0 is never a live generation. */
export let seg = 1;
/** Stamps hold `seg << STAMP_SITE_BITS | siteHash`; seg wraps (clearing every stamp) before it overflows. */
const STAMP_SITE_BITS = 8;
/** The segment part of a stamp. */
export const STAMP_SEG = ~((1 << STAMP_SITE_BITS) - 1);
const SEG_MAX = (1 << (31 - STAMP_SITE_BITS)) - 1;
/** seg << STAMP_SITE_BITS. */
export let segStamp = seg << STAMP_SITE_BITS;
/** Every stamp array (cleared when seg wraps). */
let stampArrays: WeakRef<Int32Array>[] = [];

/** The stamp of this segment for local site s of module m. */
export function stampOf(m: { fid: number }, s: number): number {
  return segStamp | ((m.fid * 61 + s) & 255);
}
/** Accesses are being recorded (race detection on, thread has a clock slot, segment sampled). */
export let on = false;
/** The same flag where instrumented code reads it (`__ppM.g.on`): hoisted loop checks are skipped when off. */
export const gate = { on: false };

let ctx: AgentContext | null = null;
export let registry: BufferRegistry | null = null;
let clock: VectorClock | null = null;
export let enabled = false;
let sampleRate = 1;
let sampledSeg = true;
let capBytes = Infinity;
let shadowBytes = 0;
let degraded = false;
let stampsWarned = false;
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
/** Emits so far: entries of siteRun from an earlier emit are stale. */
let emitGen = 0;
/** Per site hash: the index of that site's latest entry in the segment being built (valid when siteRunGen matches). */
const siteRun = new Int32Array(256);
const siteRunGen = new Int32Array(256).fill(-1);

/** A copy of a in a new array of length n. */
function resized<T extends Int32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as any)(n) as T;
  b.set(a);
  return b;
}

function grow(): void {
  cap *= 2;
  const g = <T extends Int32Array | Float64Array>(a: T): T => resized(a, cap);
  sBuf = g(sBuf);
  sOff = g(sOff);
  sLen = g(sLen);
  sKind = g(sKind);
  sSite = g(sSite);
}

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
  if (seg > SEG_MAX) {
    // Stamps of a segment SEG_MAX ago would alias the new ones: start over from clean stamps.
    seg = 1;
    stampArrays = stampArrays.filter((ref) => {
      ref.deref()?.fill(0);
      return ref.deref() !== undefined;
    });
  }
  segStamp = seg << STAMP_SITE_BITS;
  sampledSeg = sampleRate >= 1 || Math.random() < sampleRate;
  on = enabled && sampledSeg;
  gate.on = on;
}

function endSegment(): void {
  if (sN > 0 || kN > 0) emitSegment();
}

/**
 * The last segment, not yet written: a segment with the same runs whose clock moved only in this
 * thread's own entry (a loop of Atomics operations, or the same accesses under an uncontended
 * lock) extends it instead of adding a record. Keeping the newest own epoch is exact for race
 * checks: an access of another thread races with one of the merged accesses iff it races with
 * the newest.
 */
let held: SegmentRecord | null = null;

/**
 * Strided runs of the current segment: `count` blocks of `width` bytes, `stride` bytes apart
 * from `off`. A loop walking a column of a row-major matrix is one; the next column's walk
 * widens it, so a pass over every column ends as one block as wide as its stride (one range)
 * instead of an entry per element (65k per pass of a 256×256 matrix multiply).
 */
let kCap = 16;
let kBuf = new Int32Array(kCap);
let kOff = new Float64Array(kCap);
let kStride = new Float64Array(kCap);
let kCount = new Float64Array(kCap);
let kWidth = new Float64Array(kCap);
let kKind = new Int32Array(kCap);
let kSite = new Float64Array(kCap);
let kN = 0;

/** Record `count` accesses of `width` bytes each, `stride` (> width) bytes apart from `off`. */
export function recordStrided(b: number, off: number, stride: number, count: number, width: number, kind: number, site: number): void {
  if (!on || count <= 0) return;
  for (let j = kN - 1; j >= 0 && j >= kN - 4; j--) {
    if (kBuf[j] !== b || kKind[j] !== kind || kSite[j] !== site || kStride[j] !== stride || kCount[j] !== count) continue;
    const o = kOff[j]!;
    const w = kWidth[j]!;
    if (off === o + w) kWidth[j] = w + width;
    else if (off + width === o) {
      kOff[j] = off;
      kWidth[j] = w + width;
    } else if (!(off >= o && off + width <= o + w)) continue;
    return;
  }
  if (!seenSites.has(site)) noteSite(site);
  if (kN === kCap) {
    kCap *= 2;
    const g = <T extends Int32Array | Float64Array>(a: T): T => resized(a, kCap);
    kBuf = g(kBuf);
    kOff = g(kOff);
    kStride = g(kStride);
    kCount = g(kCount);
    kWidth = g(kWidth);
    kKind = g(kKind);
    kSite = g(kSite);
  }
  kBuf[kN] = b;
  kOff[kN] = off;
  kStride[kN] = stride;
  kCount[kN] = count;
  kWidth[kN] = width;
  kKind[kN] = kind;
  kSite[kN] = site;
  kN++;
  shadowBytes += 64;
}

/** Turn the strided blocks into runs: one range when a block's width covers its stride, else one per step. */
function expandStrided(): void {
  const n = kN;
  kN = 0;
  shadowBytes -= n * 64;
  for (let j = 0; j < n; j++) {
    const b = kBuf[j]!;
    const o = kOff[j]!;
    const stride = kStride[j]!;
    const count = kCount[j]!;
    const w = kWidth[j]!;
    if (w >= stride) {
      recordRange(b, o, (count - 1) * stride + w, kKind[j]!, kSite[j]!);
      continue;
    }
    for (let c = 0; c < count; c++) recordRange(b, o + c * stride, w, kKind[j]!, kSite[j]!);
  }
}

/** Write the current segment's runs (merged) with the clock it ran under; keeps the stamps. */
export function emitSegment(): void {
  if (kN > 0) expandStrided();
  if (!ctx || !clock || sN === 0) return;
  const n = sN;
  const sampled = !(partial || degraded);
  // Up to 16 runs are compared (and kept) as recorded; more are sorted and merged first.
  const merged = n > 16 ? mergeRuns(n) : null;
  const repeat = merged
    ? repeatsHeld(merged.buf, merged.off, merged.len, merged.kind, merged.site, merged.buf.length, clock, sampled)
    : repeatsHeld(sBuf, sOff, sLen, sKind, sSite, n, clock, sampled);
  if (!repeat) {
    // (A hot synchronising loop, a counter bumped with Atomics.add, repeats: no garbage then.)
    const head = (a: Col): number[] => {
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = a[i]!;
      return out;
    };
    const runs = merged ?? { buf: head(sBuf), off: head(sOff), len: head(sLen), kind: head(sKind), site: head(sSite) };
    const rec: SegmentRecord = { k: 'seg', self: clock.self, vc: clock.sparse(), ...runs };
    if (!sampled) rec.sampled = false;
    if (held) batchAdd(held);
    held = rec;
  }
  shadowBytes -= n * 32;
  sN = 0;
  emitGen++;
  partial = false;
}

type Col = ArrayLike<number>;

/**
 * Whether the n runs being emitted (columns) are the held segment's, with the same sampling,
 * and the clock is held's but for this thread's own epoch; if so held takes the new epoch in
 * place (nothing is allocated).
 */
function repeatsHeld(buf: Col, off: Col, len: Col, kind: Col, site: Col, n: number, c: VectorClock, sampled: boolean): boolean {
  const h = held;
  if (!h || (h.sampled !== false) !== sampled || h.self !== c.self || h.buf.length !== n) return false;
  for (let i = 0; i < n; i++) {
    if (h.buf[i] !== buf[i] || h.off[i] !== off[i] || h.len[i] !== len[i] || h.kind[i] !== kind[i] || h.site[i] !== site[i]) return false;
  }
  const vc = h.vc;
  const width = c.width();
  let k = 0;
  let selfAt = -1;
  for (let slot = 0; slot < width; slot++) {
    const v = c.vc[slot]!;
    if (v === 0) continue;
    if (vc[k] !== slot) return false;
    if (slot === c.self) selfAt = k + 1;
    else if (vc[k + 1] !== v) return false;
    k += 2;
  }
  if (k !== vc.length || selfAt < 0) return false;
  vc[selfAt] = c.vc[c.self]!;
  return true;
}

/** Write every segment this thread has (before a flush of the event file). */
export function flushSegments(): void {
  emitSegment();
  if (held) batchAdd(held);
  held = null;
  batchWrite();
}

/** Segments waiting to be written as one SegmentBatchRecord. */
let batch: SegmentBatchRecord | null = null;
const BATCH_SEGMENTS = 1024;
const BATCH_RUNS = 16384;

function batchAdd(rec: SegmentRecord): void {
  if (batch && batch.self !== rec.self) batchWrite();
  const b = (batch ??= { k: 'segs', self: rec.self, vcN: [], vc: [], n: [], buf: [], off: [], len: [], kind: [], site: [] });
  if (rec.sampled === false) (b.unsampled ??= []).push(b.n.length);
  b.vcN.push(rec.vc.length >> 1);
  for (const x of rec.vc) b.vc.push(x);
  b.n.push(rec.buf.length);
  for (let i = 0; i < rec.buf.length; i++) {
    b.buf.push(rec.buf[i]!);
    b.off.push(rec.off[i]!);
    b.len.push(rec.len[i]!);
    b.kind.push(rec.kind[i]!);
    b.site.push(rec.site[i]!);
  }
  if (b.n.length >= BATCH_SEGMENTS || b.buf.length >= BATCH_RUNS) batchWrite();
}

function batchWrite(): void {
  if (batch && ctx) ctx.write(batch);
  batch = null;
}

const IDX = 2 ** 20;

/**
 * Indices of the n runs ordered by (buf, kind, site, off). A segment holds few distinct
 * (buf, kind, site) triples and up to ~10⁵ runs (a column walk records each element): the runs
 * are bucketed by triple and each bucket sorted natively as off·2²⁰ + index in a Float64Array.
 * A comparator sort of the indices was the agent's largest cost on matmul with a
 * synchronisation per pass.
 */
function sortedRuns(n: number): Uint32Array {
  const order = new Uint32Array(n);
  const gid = new Uint32Array(n);
  const groups = new Map<number, Map<number, number>>();
  const triples: number[][] = [];
  let lb = NaN;
  let lk = NaN;
  let ls = NaN;
  let lg = 0;
  let packable = n < IDX;
  for (let i = 0; i < n; i++) {
    const b = sBuf[i]!;
    const k = sKind[i]!;
    const st = sSite[i]!;
    const o = sOff[i]!;
    if (!(o >= 0 && o < 2 ** 33 && Number.isInteger(o))) packable = false;
    if (b !== lb || k !== lk || st !== ls) {
      const key = st * 8 + k;
      let byBuf = groups.get(key);
      if (!byBuf) groups.set(key, (byBuf = new Map()));
      let g = byBuf.get(b);
      if (g === undefined) {
        g = triples.length;
        byBuf.set(b, g);
        triples.push([b, k, st]);
      }
      lb = b;
      lk = k;
      ls = st;
      lg = g;
    }
    gid[i] = lg;
  }
  if (!packable) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort((x, y) => sBuf[x]! - sBuf[y]! || sKind[x]! - sKind[y]! || sSite[x]! - sSite[y]! || sOff[x]! - sOff[y]!);
  }
  // Buckets in (buf, kind, site) order.
  const rank = triples.map((_, g) => g).sort((x, y) => triples[x]![0]! - triples[y]![0]! || triples[x]![1]! - triples[y]![1]! || triples[x]![2]! - triples[y]![2]!);
  const start = new Uint32Array(triples.length + 1);
  const count = new Uint32Array(triples.length);
  for (let i = 0; i < n; i++) count[gid[i]!]!++;
  for (let r = 0; r < rank.length; r++) start[r + 1] = start[r]! + count[rank[r]!]!;
  const at = new Uint32Array(triples.length);
  for (let r = 0; r < rank.length; r++) at[rank[r]!] = start[r]!;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[at[gid[i]!]!++] = sOff[i]! * IDX + i;
  for (let r = 0; r < rank.length; r++) keys.subarray(start[r]!, start[r + 1]!).sort();
  for (let j = 0; j < n; j++) order[j] = keys[j]! % IDX;
  return order;
}

/** Sort the n runs by (buf, kind, site, off) and merge overlapping/adjacent ones. */
function mergeRuns(n: number) {
  const buf = sBuf;
  const kind = sKind;
  const site = sSite;
  const off = sOff;
  const len = sLen;
  const order = sortedRuns(n);
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

/** Extend entry j with [off, off+len) when adjacent or inside it (same buffer, kind and site checked by the caller). */
function coalesce(j: number, off: number, len: number): boolean {
  const o = sOff[j]!;
  const l = sLen[j]!;
  if (o + l === off) {
    sLen[j] = l + len;
    return true;
  }
  if (off + len === o) {
    sOff[j] = off;
    sLen[j] = l + len;
    return true;
  }
  return off >= o && off + len <= o + l;
}

/**
 * Append one access run to the current segment, coalescing with the previous run or with this
 * site's latest run (two lines taking turns on the same elements stay two runs).
 */
export function recordRange(b: number, off: number, len: number, kind: number, site: number): void {
  if (!on || len <= 0) return;
  const n = sN;
  if (n > 0) {
    const j = n - 1;
    if (sBuf[j] === b && sKind[j] === kind && sSite[j] === site && coalesce(j, off, len)) return;
  }
  const h = (site + (site >>> 20) * 61) & 255;
  if (siteRunGen[h] === emitGen) {
    const j = siteRun[h]!;
    if (j < n && sBuf[j] === b && sKind[j] === kind && sSite[j] === site && coalesce(j, off, len)) return;
  }
  if (!seenSites.has(site)) noteSite(site);
  if (n === cap) grow();
  sBuf[n] = b;
  sOff[n] = off;
  sLen[n] = len;
  sKind[n] = kind;
  sSite[n] = site;
  sN = n + 1;
  siteRun[h] = n;
  siteRunGen[h] = emitGen;
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

/**
 * Stamps of (buffer, kind, element size), allocated on first use within the cap. Stamps are
 * only a shortcut: past the cap a buffer goes without them (every access through the run
 * coalescing, slower but complete) instead of the thread degrading to sampling.
 */
function stampsFor(b: BufferState, kind: number, bpe: number): Int32Array {
  const k = kind * 9 + bpe;
  const have = b.stamps[k];
  if (have) return have;
  if (have === null) return EMPTY;
  const n = Math.floor(b.byteLength / bpe);
  if (shadowBytes + n * 4 > capBytes) {
    b.stamps[k] = null;
    if (!stampsWarned && ctx) {
      stampsWarned = true;
      const mib = (x: number): string => (x / 1048576).toFixed(1);
      ctx.write({ k: 'warn', msg: `race detection: a ${mib(b.byteLength)} MiB shared buffer would pass the shadow memory cap of ${ctx.options.shadowCapMiB} MiB in thread ${ctx.tid}; its accesses are recorded without the same-segment shortcut (slower, none missed)` });
    }
    return EMPTY;
  }
  shadowBytes += n * 4;
  // Over an ArrayBuffer of its own: one of at most 64 bytes made from a length would live inside
  // the object on the JS heap, where V8's optimised code reaches it more slowly (a small
  // buffer of lock and flag words is the one touched most).
  const arr = new Int32Array(new ArrayBuffer(n * 4));
  b.stamps[k] = arr;
  stampArrays.push(new WeakRef(arr));
  return arr;
}

/** The second stamps of a view's buffer for reads (kind 0) or writes (1), allocated on first need. */
export function secondStamps(t: ViewTag, kind: number): Int32Array {
  const have = kind === 0 ? t.r2 : t.w2;
  if (have !== EMPTY) return have;
  const arr = stampsFor(t.b, kind + 2, t.bpe);
  if (kind === 0) t.r2 = arr;
  else t.w2 = arr;
  return arr;
}

/** Tag a view (null for views over non-shared memory and DataViews). */
export function tagView(a: ArrayBufferView): ViewTag | null {
  let tag: ViewTag | null = null;
  const buffer = a.buffer;
  const bpe = (a as any).BYTES_PER_ELEMENT as number | undefined;
  if (buffer instanceof SharedArrayBuffer && typeof bpe === 'number' && registry) {
    const b = registry.get(buffer);
    tag = { b, base: a.byteOffset / bpe, bpe, r: stampsFor(b, 0, bpe), w: stampsFor(b, 1, bpe), r2: EMPTY, w2: EMPTY };
  }
  try {
    Object.defineProperty(a, VT, { value: tag, writable: true, configurable: true, enumerable: false });
  } catch {
    /* non-extensible view: stays on the slow path */
  }
  return tag;
}

export function tagOf(a: ArrayBufferView): ViewTag | null {
  const t = (a as any)[VT] as ViewTag | null | undefined;
  return t === undefined ? tagView(a) : t;
}

/** Record an Atomics access (atomic kinds) at a byte range. */
export function recordAtomic(b: BufferState, off: number, len: number, write: boolean, site: number): void {
  recordRange(b.idx, off, len, write ? AccessKind.AtomicWrite : AccessKind.AtomicRead, site);
}

/** Whether accesses are currently recorded. */
export function recording(): boolean {
  return on;
}
