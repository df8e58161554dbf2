/**
 * Element accesses to shared typed arrays: the methods the transform calls (`__ppM.r(a, i, 7)`
 * returns i after noting the read), writes whose right side may synchronise (paired by token),
 * and hoisted loops (one range check per loop run). Method calls and whole-view reads are in
 * methodAccess.ts; the segment being built, tags and stamps in segment.ts.
 */
import { AccessKind, SITE_FID_SCALE } from '../../protocol/events';
import { io, it, tm, v } from './methodAccess';
import { enabled, gate, isView, noteSite, on, recordRange, recordStrided, registry, secondStamps, seg, segStamp, STAMP_SEG, stampOf, tagOf, tagView, VT, type ViewTag } from './segment';

export { emitSegment, flushSegments, initAccess, noteSite, recordAtomic, recording, segmentSink } from './segment';

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

/** Slow path of an element access: validate the index, stamp, record. */
function slowElement(m: { fid: number }, a: ArrayBufferView, key: unknown, s: number, kind: number): void {
  const t = tagOf(a);
  if (t === null) return;
  let i: number;
  if (typeof key === 'number') i = key;
  else if (typeof key === 'string' && key !== '' && String(Number(key)) === key) i = Number(key);
  else return;
  if (!Number.isInteger(i) || i < 0 || i >= (a as any).length) return;
  stamp(t, t.base + i, kind, stampOf(m, s));
  recordRange(t.b.idx, a.byteOffset + i * t.bpe, t.bpe, kind, m.fid * SITE_FID_SCALE + s);
}

/** Stamp element e (kind 0 read, 1 write) with st: the first stamp when it is from an older segment, else the second. */
function stamp(t: ViewTag, e: number, kind: number, st: number): void {
  const one = kind === AccessKind.Read ? t.r : t.w;
  if (e >= one.length) return;
  if ((one[e]! & STAMP_SEG) !== segStamp) one[e] = st;
  else if (one[e] !== st) {
    const two = secondStamps(t, kind);
    if (e < two.length) two[e] = st;
  }
}

/** `a[i]` read: returns i. */
function r(this: { fid: number }, a: any, i: any, s: number): any {
  if (on && isView(a)) {
    const t = (a as any)[VT];
    if (t !== null) {
      if (typeof i === 'number' && t !== undefined) {
        const st = segStamp | ((this.fid * 61 + s) & 255);
        if (t.r[t.base + i] === st || t.r2[t.base + i] === st) return i;
      }
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
      if (typeof i === 'number' && t !== undefined) {
        const st = segStamp | ((this.fid * 61 + s) & 255);
        if (t.w[t.base + i] === st || t.w2[t.base + i] === st) return i;
      }
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
        const e = t.base + i;
        if ((t.w[e] === st || t.w2[e] === st) && (t.r[e] === st || t.r2[e] === st)) return i;
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
  // Small enough to inline where the loop is: an unsampled segment then costs a branch, not a call.
  if (on) loopOn(this, x, i0, i1, lo, hi, incl, s, kind);
}

function loopOn(
  m: { fid: number; hc?: (LoopCache | undefined)[] },
  x: any, i0: number, i1: number, lo: number, hi: number, incl: number, s: number, kind: number,
): void {
  if (!isView(x) || typeof lo !== 'number' || typeof hi !== 'number' || !Number.isInteger(i0)) return;
  const count = incl ? Math.floor(hi - lo) + 1 : Math.ceil(hi - lo);
  if (!(count > 0)) return;
  const stride = count > 1 ? i1 - i0 : 0;
  if (!Number.isInteger(stride)) return;
  const t = tagOf(x);
  if (t === null) return;
  const hc = (m.hc ??= []);
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
  loopRange(m.fid, x, t, i0, stride, count, s, kind);
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
    const last = i0 + stride * (count - 1);
    if (Math.min(i0, last) >= 0 && Math.max(i0, last) < len) {
      // Every step in bounds: one strided block (neighbouring columns widen it), no stamps.
      recordStrided(t.b.idx, x.byteOffset + Math.min(i0, last) * t.bpe, Math.abs(stride) * t.bpe, count, t.bpe, k, site);
      continue;
    }
    for (let j = 0, i = i0; j < count; j++, i += stride) {
      if (i < 0 || i >= len) continue;
      const e = t.base + i;
      if (k === AccessKind.Read ? t.r[e] === st || t.r2[e] === st : t.w[e] === st || t.w2[e] === st) continue;
      stamp(t, e, k, st);
      recordRange(t.b.idx, x.byteOffset + i * t.bpe, t.bpe, k, site);
    }
  }
}

/** Methods placed on every module runtime object (`__ppM`). */
export const accessMethods = { r, w, rw, wk, wv, sab, tm, lp, it, v, io, g: gate };
