/**
 * Element accesses to shared typed arrays: the methods the transform calls (`__ppM.r(a, i, 7)`
 * returns i after noting the read), the same-segment fast path, and the segment being built.
 *
 * Fast path: each view gets a hidden tag (buffer state, first element index, same-segment
 * stamp arrays for its element size); an access whose element already carries this segment's
 * stamp for this site costs one compare. A stamp is the segment in the high bits and a hash of
 * the site in the low 8, so a second line touching the element in the same segment is still
 * recorded (its race is a report of its own). Non-shared views are tagged null and exit at once.
 */
import { AccessKind, SITE_FID_SCALE } from '../../protocol/events';
import type { AgentContext } from '../extension';
import type { BufferRegistry, BufferState } from './buffers';
import type { SegmentSink, VectorClock } from './clock';
import { BUFFER_SIZE, BUFFER_SIZED, DV_SIZE, READ_ALL, WRITE_ALL } from './methods';

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

/** Current segment generation; 0 is never a live generation. */
let seg = 1;
/** Stamps hold `seg << STAMP_SITE_BITS | siteHash`; seg wraps (clearing every stamp) before it overflows. */
const STAMP_SITE_BITS = 8;
const SEG_MAX = (1 << (31 - STAMP_SITE_BITS)) - 1;
/** seg << STAMP_SITE_BITS. */
let segStamp = seg << STAMP_SITE_BITS;
/** Every stamp array (cleared when seg wraps). */
let stampArrays: WeakRef<Int32Array>[] = [];

/** The stamp of this segment for local site s of module m. */
function stampOf(m: { fid: number }, s: number): number {
  return segStamp | ((m.fid * 61 + s) & 255);
}
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

/**
 * Pending writes `a[k] = rhs` whose right side may synchronise (calls, await): wk hands a
 * token to wv through the generated code (`a[wk(a,k,s)] = wv(__ppM.q, rhs, s)`), so each write
 * is paired with its own key even when many are in flight (awaits, deep recursion). A ring of
 * slots indexed by token; a slot still pending when its turn comes again (right sides that
 * threw, or more than that many in flight) makes the ring grow, up to PEND_MAX.
 */
const PEND_MAX = 1 << 16;
let pendMask = 63;
let pendA: unknown[] = new Array(64).fill(undefined);
let pendI: unknown[] = new Array(64).fill(undefined);
let pendT = new Float64Array(64);
let pendLast = 0;

function pendPush(a: unknown, i: unknown): number {
  const tok = ++pendLast;
  if (pendT[tok & pendMask] !== 0 && pendMask + 1 < PEND_MAX) growPending();
  const slot = tok & pendMask;
  pendA[slot] = a;
  pendI[slot] = i;
  pendT[slot] = tok;
  return tok;
}

function growPending(): void {
  const n = (pendMask + 1) * 2;
  const A: unknown[] = new Array(n).fill(undefined);
  const I: unknown[] = new Array(n).fill(undefined);
  const T = new Float64Array(n);
  for (let k = 0; k <= pendMask; k++) {
    const t = pendT[k]!;
    const j = t & (n - 1);
    if (t !== 0 && t > T[j]!) {
      A[j] = pendA[k];
      I[j] = pendI[k];
      T[j] = t;
    }
  }
  pendA = A;
  pendI = I;
  pendT = T;
  pendMask = n - 1;
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
}

function endSegment(): void {
  if (sN > 0) emitSegment();
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
  ctx.write(rec);
  shadowBytes -= n * 32;
  sN = 0;
  emitGen++;
  partial = false;
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
  const arr = new Int32Array(n);
  b.stamps[k] = arr;
  stampArrays.push(new WeakRef(arr));
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
  if (si < stamps.length) stamps[si] = stampOf(m, s);
  recordRange(t.b.idx, a.byteOffset + i * t.bpe, t.bpe, kind, m.fid * SITE_FID_SCALE + s);
}

/** `a[i]` read: returns i. */
function r(this: { fid: number }, a: any, i: any, s: number): any {
  if (on && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null) {
      if (typeof i === 'number' && t !== undefined && t.r[t.base + i] === (segStamp | ((this.fid * 61 + s) & 255))) return i;
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
      if (typeof i === 'number' && t !== undefined && t.w[t.base + i] === (segStamp | ((this.fid * 61 + s) & 255))) return i;
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
      if (typeof i === 'number' && t !== undefined) {
        const st = segStamp | ((this.fid * 61 + s) & 255);
        if (t.w[t.base + i] === st && t.r[t.base + i] === st) return i;
      }
      slowElement(this, a, i, s, AccessKind.Read);
      slowElement(this, a, i, s, AccessKind.Write);
    }
  }
  return i;
}

/** Key of a write whose right side may synchronise (calls, await): leaves the write's token in `this.q` for wv; returns i. */
function wk(this: { fid: number; q?: number }, a: any, i: any, s: number, alsoRead?: number): any {
  if (enabled && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null && (t !== undefined || tagView(a) !== null)) {
      if (alsoRead) r.call(this, a, i, s);
      this.q = pendPush(a, i);
      return i;
    }
  }
  this.q = 0;
  return i;
}

/** Value of such a write: records the write of token `tok` now (after the right side ran); returns v. */
function wv(this: { fid: number }, tok: number, v: any, s: number): any {
  if (tok) {
    const slot = tok & pendMask;
    if (pendT[slot] === tok) {
      pendT[slot] = 0;
      const a = pendA[slot];
      const i = pendI[slot];
      pendA[slot] = undefined;
      pendI[slot] = undefined;
      w.call(this, a, i, s);
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

/** The element `at(x)` / `with(x, v)` address: a relative index, -1 when out of range or not a number. */
function elementAt(x: unknown, len: number): number {
  if (x !== undefined && typeof x !== 'number') return -1;
  const n = x === undefined || Number.isNaN(x) ? 0 : Math.trunc(x);
  const i = n < 0 ? len + n : n;
  return i >= 0 && i < len ? i : -1;
}

function viewRange(m: { fid: number }, a: ArrayBufferView, from: number, to: number, kind: number, s: number): void {
  const t = tagOf(a);
  if (t === null || to <= from) return;
  recordRange(t.b.idx, a.byteOffset + from * t.bpe, (to - from) * t.bpe, kind, m.fid * SITE_FID_SCALE + s);
}

/** Byte offset argument of a Buffer method (undefined = 0), or -1 when not a valid one. */
function byteArg(x: unknown, dflt = 0): number {
  if (x === undefined) return dflt;
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : -1;
}

/** Note the bytes a Node Buffer method touched (`result` is what it returned); false when `name` is none of them. */
function noteBufferMethod(m: { fid: number }, o: Uint8Array, name: string, args: unknown[], s: number, result: unknown): boolean {
  const len = o.length;
  const R = AccessKind.Read;
  const W = AccessKind.Write;
  const size = BUFFER_SIZE.get(name);
  const write = name.startsWith('write');
  if (size !== undefined || BUFFER_SIZED.has(name)) {
    const at = byteArg(args[write ? 1 : 0]);
    const n = size ?? byteArg(args[write ? 2 : 1], -1);
    if (at >= 0 && n > 0 && at + n <= len) viewRange(m, o, at, at + n, write ? W : R, s);
    return true;
  }
  switch (name) {
    case 'write': {
      // write(string[, offset[, length]][, encoding]) returns the bytes written.
      const at = typeof args[1] === 'number' ? byteArg(args[1]) : 0;
      if (at >= 0 && typeof result === 'number' && result > 0) viewRange(m, o, at, Math.min(len, at + result), W, s);
      return true;
    }
    case 'toString': {
      const a = Math.max(0, Math.min(len, Number(args[1] ?? 0) || 0));
      const b = args[2] === undefined ? len : Math.max(0, Math.min(len, Number(args[2]) || 0));
      viewRange(m, o, a, b, R, s);
      return true;
    }
    case 'copy': {
      // copy(target[, targetStart[, sourceStart[, sourceEnd]]]) returns the bytes copied.
      const target = args[0];
      const to = byteArg(args[1]);
      const from = byteArg(args[2]);
      if (typeof result !== 'number' || result <= 0 || to < 0 || from < 0) return true;
      viewRange(m, o, from, Math.min(len, from + result), R, s);
      if (isView(target) && !(target instanceof DataView)) {
        const t = target as Uint8Array;
        viewRange(m, t, to, Math.min(t.length, to + result), W, s);
      }
      return true;
    }
    case 'slice':
      return true; // a Buffer's slice is a view of the same bytes, not a copy
  }
  return false;
}

/** Note the byte ranges a typed-array method, DataView get/set or Buffer method call touched. */
function noteMethod(m: { fid: number }, o: ArrayBufferView, name: string, args: unknown[], s: number, result: unknown): void {
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
  if (Buffer.isBuffer(o) && noteBufferMethod(m, o, name, args, s, result)) return;
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
  } else if (name === 'at') {
    const i = elementAt(args[0], len);
    if (i >= 0) viewRange(m, o, i, i + 1, R, s);
  } else if (name === 'with') {
    if (elementAt(args[0], len) >= 0) viewRange(m, o, 0, len, R, s); // copies the whole array
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

/**
 * `o.name(...args)` for range methods: calls, then records the ranges the call touched when o is
 * a shared view (a call that throws touched nothing we could name). Up to four arguments are
 * passed without building an array: other objects' `set`, `write`, `slice`… stay cheap.
 */
function tm(this: { fid: number }, s: number, o: any, name: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown): any {
  const n = arguments.length - 3;
  let result: unknown;
  switch (n) {
    case 0:
      result = o[name]();
      break;
    case 1:
      result = o[name](a);
      break;
    case 2:
      result = o[name](a, b);
      break;
    case 3:
      result = o[name](a, b, c);
      break;
    case 4:
      result = o[name](a, b, c, d);
      break;
    default:
      // eslint-disable-next-line prefer-rest-params -- the rare long call only
      result = o[name](...Array.prototype.slice.call(arguments, 3));
  }
  if (on && isView(o)) {
    try {
      // eslint-disable-next-line prefer-rest-params -- only for shared views
      noteMethod(this, o, name, Array.prototype.slice.call(arguments, 3), s, result);
    } catch {
      /* never let recording break the call */
    }
  }
  return result;
}

/** Receiver of a method that reads a whole view (`o.join()`, `o.reduce(f)`): records the read when o is a shared view; returns o. */
function v(this: { fid: number }, o: any, s: number): any {
  if (on && isView(o) && !(o instanceof DataView)) viewRange(this, o, 0, (o as any).length, AccessKind.Read, s);
  return o;
}

/** Elements of a shared view read one by one as the iteration reaches them. */
function* readEach(m: { fid: number }, x: any, t: ViewTag, s: number): Generator<unknown, void, unknown> {
  const site = m.fid * SITE_FID_SCALE + s;
  for (let i = 0; i < x.length; i++) {
    recordRange(t.b.idx, x.byteOffset + i * t.bpe, t.bpe, AccessKind.Read, site);
    yield x[i];
  }
}

/** `for (… of x)` that may synchronise or stop early, `[a, b] = x`: x itself, or for a shared view an iterator that records each element it yields. */
function io(this: { fid: number }, x: any, s: number): any {
  if (!enabled || !isView(x) || x instanceof DataView) return x;
  const t = tagOf(x);
  return t === null ? x : readEach(this, x, t, s);
}

/** Per hoisted-loop site: the ranges already recorded in the current segment. */
interface LoopCache {
  seg: number;
  stride: number;
  count: number;
  bpe: number;
  /** Buffer index → byte offsets of the first element of runs recorded. */
  firsts: Map<number, Set<number>>;
}

/**
 * A loop's accesses `X[f(k)]` for k = lo, lo+1, … while k < hi (≤ hi when incl), hoisted out of
 * the loop by the transform (BigFoot): f is affine in k (the transform passes f(lo) and f(lo+1))
 * and the loop body cannot synchronise, so all of them belong to the current segment. One call
 * per loop run instead of one per access; the same run (same buffer, first byte, stride, count)
 * already recorded by this site in this segment costs two lookups.
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
  const t = tagOf(x);
  if (t === null) return;
  const hc = (this.hc ??= []);
  let c = hc[s];
  if (c === undefined || c.seg !== seg || c.stride !== stride || c.count !== count || c.bpe !== t.bpe) {
    c = { seg, stride, count, bpe: t.bpe, firsts: new Map() };
    hc[s] = c;
  }
  const first = x.byteOffset + i0 * t.bpe;
  let done = c.firsts.get(t.b.idx);
  if (done === undefined) c.firsts.set(t.b.idx, (done = new Set()));
  else if (done.has(first)) return;
  done.add(first);
  loopRange(this.fid, x, t, i0, stride, count, s, kind);
}

function loopRange(fid: number, x: any, t: ViewTag, i0: number, stride: number, count: number, s: number, kind: number): void {
  const len = (x as any).length as number;
  const site = fid * SITE_FID_SCALE + s;
  const st = segStamp | ((fid * 61 + s) & 255);
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
        if (stamps[si] === st) continue;
        stamps[si] = st;
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
export const accessMethods = { r, w, rw, wk, wv, sab, tm, lp, it, v, io };

/** Record an Atomics access (atomic kinds) at a byte range. */
export function recordAtomic(b: BufferState, off: number, len: number, write: boolean, site: number): void {
  recordRange(b.idx, off, len, write ? AccessKind.AtomicWrite : AccessKind.AtomicRead, site);
}

/** Whether accesses are currently recorded. */
export function recording(): boolean {
  return on;
}
