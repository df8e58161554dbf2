/**
 * The timeline's columnar model: slices grouped by lane in typed arrays (start float64,
 * duration float32, state uint8, stack int16/int32, labels sparse: ~17 bytes a slice), and a
 * level-of-detail pyramid per lane (state coverage per bucket, one byte per state) so a frame
 * costs pixels, not slices. Pure code, no DOM: tested in Node.
 */
import type { TimelineData } from '../src/protocol/report';
import type { PackedTimeline } from '../src/protocol/messages';

/** Number of thread states (running, idle, blocked, GC). */
export const STATES = 4;
/** Buckets of a lane's coarsest LOD level; level L has BASE_BUCKETS << L. */
const BASE_BUCKETS = 256;

/** All slices of a run, lane-major and sorted by start within a lane. */
export interface TimelineModel {
  laneCount: number;
  /** Slices of lane l are [laneOffset[l], laneOffset[l + 1]). */
  laneOffset: Int32Array;
  start: Float64Array;
  dur: Float32Array;
  state: Uint8Array;
  stack: Int16Array | Int32Array;
  /** Sorted slice indices that carry a label, and the label index of each. */
  labelledIdx: Int32Array;
  labelledVal: Int32Array;
  labels: string[];
  /** End of the last slice (ms). */
  spanMs: number;
  /** Per lane: LOD levels, finest last; each holds STATES coverage bytes per bucket. */
  lod: Uint8Array[][];
  /** True for the overview drawn while the slices are still loading (LOD only, no slices). */
  partial?: boolean;
}

/** The overview model: the encoder's coarse coverage per lane, no slices yet. */
export function modelFromOverview(p: PackedTimeline): TimelineModel | null {
  if (!p.overview || !p.overviewSpanMs || p.overview.length !== p.laneCounts.length) return null;
  const lod = p.overview.map((b64) => {
    let q = decodeBase64(b64);
    const levels = [q];
    // Coarser levels average pairs of buckets, down to BASE_BUCKETS.
    while (q.length / STATES > BASE_BUCKETS) {
      const half = new Uint8Array(q.length >> 1);
      for (let i = 0; i < half.length; i += STATES) for (let s = 0; s < STATES; s++) half[i + s] = (q[2 * i + s]! + q[2 * i + STATES + s]! + 1) >> 1;
      levels.unshift(half);
      q = half;
    }
    return levels;
  });
  const empty = new Float64Array(0);
  return { laneCount: p.laneCounts.length, laneOffset: new Int32Array(p.laneCounts.length + 1), start: empty, dur: new Float32Array(0), state: new Uint8Array(0), stack: new Int16Array(0), labelledIdx: new Int32Array(0), labelledVal: new Int32Array(0), labels: p.labels, spanMs: p.overviewSpanMs, lod, partial: true };
}

/** Builds the model from Report.timeline's parallel arrays (any order). */
export function modelFromColumns(tl: TimelineData, laneCount: number): TimelineModel {
  const n = tl.start.length;
  const laneOffset = new Int32Array(laneCount + 1);
  for (let i = 0; i < n; i++) {
    const l = tl.thread[i]!;
    if (l >= 0 && l < laneCount) laneOffset[l + 1]!++;
  }
  for (let l = 0; l < laneCount; l++) laneOffset[l + 1]! += laneOffset[l]!;
  const total = laneOffset[laneCount]!;
  const fill = laneOffset.slice(0, laneCount);
  const order = new Int32Array(total);
  for (let i = 0; i < n; i++) {
    const l = tl.thread[i]!;
    if (l >= 0 && l < laneCount) order[fill[l]!++] = i;
  }
  // Sort each lane by start only when it is not already sorted (the core writes it sorted).
  for (let l = 0; l < laneCount; l++) {
    const a = laneOffset[l]!;
    const b = laneOffset[l + 1]!;
    let sorted = true;
    for (let j = a + 1; j < b && sorted; j++) sorted = tl.start[order[j - 1]!]! <= tl.start[order[j]!]!;
    if (!sorted) order.subarray(a, b).sort((x, y) => tl.start[x]! - tl.start[y]!);
  }
  const stackCount = maxOf(tl.stack);
  const start = new Float64Array(total);
  const dur = new Float32Array(total);
  const state = new Uint8Array(total);
  const stack = stackCount < 32767 ? new Int16Array(total) : new Int32Array(total);
  const li: number[] = [];
  const lv: number[] = [];
  for (let j = 0; j < total; j++) {
    const i = order[j]!;
    const s = tl.start[i]!;
    start[j] = s;
    dur[j] = Math.max(0, tl.end[i]! - s);
    state[j] = tl.state[i]! & 3;
    stack[j] = tl.stack[i] ?? -1;
    const lab = tl.label[i] ?? -1;
    if (lab >= 0) {
      li.push(j);
      lv.push(lab);
    }
  }
  return finish({ laneCount, laneOffset, start, dur, state, stack, labelledIdx: Int32Array.from(li), labelledVal: Int32Array.from(lv), labels: tl.labels ?? [], spanMs: 0, lod: [] });
}

/** Int16 copy of an Int32 column (TypedArray.set converts natively; .from iterates slowly). */
function narrow(a: Int32Array): Int16Array {
  const out = new Int16Array(a.length);
  out.set(a);
  return out;
}

/** Max of an array without spreading millions of arguments. */
function maxOf(a: ArrayLike<number>): number {
  let m = -1;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** Builds the model from the packed byte stream (see PackedTimeline). */
export function modelFromPacked(p: PackedTimeline, bytes: Uint8Array): TimelineModel {
  const n = p.count;
  const laneCount = p.laneCounts.length;
  const laneOffset = new Int32Array(laneCount + 1);
  for (let l = 0; l < laneCount; l++) laneOffset[l + 1] = laneOffset[l]! + p.laneCounts[l]!;
  // With the largest stack id known up front, 16-bit stacks are decoded in place (no copy).
  const small = p.maxStack !== undefined && p.maxStack < 32767;
  const cols: Columns = { start: new Float64Array(n), dur: new Float32Array(n), state: new Uint8Array(n), stack: small ? new Int16Array(n) : new Int32Array(n), li: [], lv: [] };
  const cur: Cursor = { at: 0, end: 0, st: -1, maxStack: -1, maxEnd: 0, len: Math.min(bytes.length, p.byteLength), cov: null, inv: 0 };
  const msPerTick = p.tickUs / 1000;
  // With the span known up front (the overview's), the LOD fills in the same pass.
  const span = p.overviewSpanMs ?? 0;
  const lod: Uint8Array[][] = [];
  for (let l = 0; l < laneCount; l++) {
    cur.end = p.laneStartTicks[l] ?? 0;
    cur.st = -1;
    const levels = span ? lodLevels(p.laneCounts[l]!) : 0;
    const cov = levels ? new Float32Array((BASE_BUCKETS << (levels - 1)) * STATES) : null;
    cur.cov = cov;
    cur.inv = cov ? (BASE_BUCKETS << (levels - 1)) / span : 0;
    // Small blocks: V8 optimises a function called many times far better than one long loop
    // (measured: ~100× in Chromium, where the single loop stayed unoptimised).
    for (let i = laneOffset[l]!; i < laneOffset[l + 1]!; i += DECODE_BLOCK) decodeBlock(bytes, cur, i, Math.min(i + DECODE_BLOCK, laneOffset[l + 1]!), msPerTick, cols);
    if (span) lod.push(cov ? quantizeLevels(cov, span, levels) : []);
  }
  const { start, dur, state, stack, li, lv } = cols;
  return finish({ laneCount, laneOffset, start, dur, state, stack: small || cur.maxStack >= 32767 ? stack : narrow(stack as Int32Array), labelledIdx: Int32Array.from(li), labelledVal: Int32Array.from(lv), labels: p.labels, spanMs: span || cur.maxEnd * msPerTick, lod });
}

const DECODE_BLOCK = 16384;

/** Decoder state carried from block to block. */
interface Cursor {
  at: number;
  end: number;
  st: number;
  maxStack: number;
  maxEnd: number;
  len: number;
  /** The lane's finest LOD coverage being filled, and its buckets per ms. */
  cov?: Float32Array | null;
  inv?: number;
}

interface Columns {
  start: Float64Array;
  dur: Float32Array;
  state: Uint8Array;
  stack: Int32Array | Int16Array;
  li: number[];
  lv: number[];
}

/** Decodes slices [i0, i1) of one lane from the stream (see PackedTimeline). */
function decodeBlock(bytes: Uint8Array, cur: Cursor, i0: number, i1: number, msPerTick: number, cols: Columns): void {
  const { start, dur, state, stack } = cols;
  let at = cur.at;
  let end = cur.end;
  let st = cur.st;
  let maxEnd = cur.maxEnd;
  const cov = cur.cov;
  const inv = cur.inv ?? 0;
  if (at + (i1 - i0) * 2 > cur.len) throw new Error('the packed timeline is truncated');
  for (let i = i0; i < i1; i++) {
    const h = bytes[at++]!;
    let s = end;
    let b: number;
    if (h & 4) {
      // Varints inline: most values fit one or two bytes.
      b = bytes[at++]!;
      let v = b & 127;
      for (let mul = 128; b & 128; mul *= 128) v += ((b = bytes[at++]!) & 127) * mul;
      s += v % 2 ? -(v + 1) / 2 : v / 2;
    }
    b = bytes[at++]!;
    let d = b & 127;
    for (let mul = 128; b & 128; mul *= 128) d += ((b = bytes[at++]!) & 127) * mul;
    if (h & 8) {
      b = bytes[at++]!;
      let v = b & 127;
      for (let mul = 128; b & 128; mul *= 128) v += ((b = bytes[at++]!) & 127) * mul;
      st = v - 1;
      if (st > cur.maxStack) cur.maxStack = st;
    }
    if (h & 16) {
      b = bytes[at++]!;
      let v = b & 127;
      for (let mul = 128; b & 128; mul *= 128) v += ((b = bytes[at++]!) & 127) * mul;
      cols.li.push(i);
      cols.lv.push(v - 1);
    }
    const t = s * msPerTick;
    start[i] = t;
    dur[i] = d * msPerTick;
    state[i] = h & 3;
    stack[i] = st;
    end = s + d;
    if (end > maxEnd) maxEnd = end;
    if (cov) addSlice(cov, inv, t, end * msPerTick, h & 3);
  }
  if (at > cur.len) throw new Error('the packed timeline is truncated');
  cur.at = at;
  cur.end = end;
  cur.st = st;
  cur.maxEnd = maxEnd;
}

function finish(m: TimelineModel): TimelineModel {
  let span = m.spanMs;
  if (!span) {
    for (let l = 0; l < m.laneCount; l++) {
      const b = m.laneOffset[l + 1]!;
      for (let j = m.laneOffset[l]!; j < b; j++) span = Math.max(span, m.start[j]! + m.dur[j]!);
    }
  }
  m.spanMs = span || 1;
  if (m.lod.length !== m.laneCount) {
    m.lod = [];
    for (let l = 0; l < m.laneCount; l++) m.lod.push(buildLaneLod(m, l));
  }
  return m;
}

/** LOD pyramid of one lane: finest level has at most a quarter as many buckets as slices. */
function buildLaneLod(m: TimelineModel, lane: number): Uint8Array[] {
  const a = m.laneOffset[lane]!;
  const b = m.laneOffset[lane + 1]!;
  const levels = lodLevels(b - a);
  if (levels === 0) return [];
  const finest = BASE_BUCKETS << (levels - 1);
  const cov = new Float32Array(finest * STATES);
  const inv = finest / m.spanMs;
  for (let j = a; j < b; j++) addSlice(cov, inv, m.start[j]!, m.start[j]! + m.dur[j]!, m.state[j]!);
  return quantizeLevels(cov, m.spanMs, levels);
}

/** LOD levels for a lane of n slices: the finest has at most n / 4 buckets. */
function lodLevels(n: number): number {
  let levels = 0;
  while (BASE_BUCKETS << levels <= n / 4) levels++;
  return levels;
}

/** Adds slice [s, e) to bucket coverage (inv = buckets per ms). */
function addSlice(cov: Float32Array, inv: number, s: number, e: number, state: number): void {
  const c = Math.floor(s * inv);
  const cells = cov.length / STATES;
  // Most slices sit inside one bucket (buckets hold ~4 slices): add without the loop.
  if (c === Math.floor(e * inv) && c < cells) cov[c * STATES + state]! += e - s;
  else addCoverage(cov, cells, 1 / inv, 0, s, e, state);
}

/** Quantised levels (coarsest first) from the finest level's coverage in ms. */
function quantizeLevels(finestCov: Float32Array, spanMs: number, levels: number): Uint8Array[] {
  let cov = finestCov;
  const out: Uint8Array[] = new Array(levels);
  for (let L = levels - 1; ; L--) {
    // A clamped array rounds and clamps to 0–255 as it stores: no Math calls per cell.
    const q = new Uint8ClampedArray(cov.length);
    const k = 255 / (spanMs / (BASE_BUCKETS << L));
    for (let i = 0; i < cov.length; i++) q[i] = cov[i]! * k;
    out[L] = new Uint8Array(q.buffer);
    if (L === 0) break;
    const half = new Float32Array(cov.length >> 1);
    for (let i = 0; i < half.length; i += STATES) {
      for (let s = 0; s < STATES; s++) half[i + s] = cov[2 * i + s]! + cov[2 * i + STATES + s]!;
    }
    cov = half;
  }
  return out;
}

/** Adds [s, e) in `state` to per-cell coverage (ms) of cells of width w starting at t0. */
function addCoverage(cov: Float32Array, cells: number, w: number, t0: number, s: number, e: number, state: number): void {
  let x0 = (s - t0) / w;
  const x1 = Math.min(cells, (e - t0) / w);
  if (x0 < 0) x0 = 0;
  while (x0 < x1) {
    const c = Math.floor(x0);
    const next = Math.min(x1, c + 1);
    cov[c * STATES + state]! += (next - x0) * w;
    x0 = next;
  }
}

/** First slice index in lane with end > t (slices in a lane do not overlap much). */
export function firstVisible(m: TimelineModel, lane: number, t: number): number {
  let lo = m.laneOffset[lane]!;
  let hi = m.laneOffset[lane + 1]!;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (m.start[mid]! + m.dur[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the slice of lane covering time t, or -1. */
export function sliceAt(m: TimelineModel, lane: number, t: number, slackMs = 0): number {
  const i = firstVisible(m, lane, t - slackMs);
  if (i < m.laneOffset[lane + 1]! && m.start[i]! <= t + slackMs) return i;
  return -1;
}

/** Label index of slice i, or -1. */
export function labelOf(m: TimelineModel, i: number): number {
  let lo = 0;
  let hi = m.labelledIdx.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (m.labelledIdx[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return lo < m.labelledIdx.length && m.labelledIdx[lo] === i ? m.labelledVal[lo]! : -1;
}

/**
 * Fills out[px * STATES + state] with the time (ms) each state covers in each of `width`
 * pixel columns of the window [t0, t0 + width * pxMs). Uses the LOD level whose buckets are
 * no wider than a pixel, or the raw slices when they are few. Returns the items visited.
 */
export function laneCoverage(m: TimelineModel, lane: number, t0: number, pxMs: number, width: number, out: Float32Array): number {
  out.fill(0, 0, width * STATES);
  const t1 = t0 + width * pxMs;
  const a = firstVisible(m, lane, t0);
  const levels = m.lod[lane]!;
  // Buckets at most half a pixel wide, so a bucket straddling two pixels errs little.
  const want = Math.ceil(Math.log2(m.spanMs / (BASE_BUCKETS * pxMs))) + 1;
  if (levels.length > 0 && (want < levels.length || m.partial)) {
    const L = Math.max(0, Math.min(levels.length - 1, want));
    const buckets = BASE_BUCKETS << L;
    const w = m.spanMs / buckets;
    const q = levels[L]!;
    const b0 = Math.max(0, Math.floor(t0 / w));
    const b1 = Math.min(buckets, Math.ceil(t1 / w));
    const k = w / 255;
    for (let bi = b0; bi < b1; bi++) {
      const bs = bi * w;
      for (let s = 0; s < STATES; s++) {
        const c = q[bi * STATES + s]!;
        // Spread the bucket's covered time evenly over the bucket's span in pixels.
        if (c) addScaled(out, width, pxMs, t0, bs, bs + w, s, (c * k) / w);
      }
    }
    return b1 - b0;
  }
  const b = m.laneOffset[lane + 1]!;
  let j = a;
  for (; j < b && m.start[j]! < t1; j++) addCoverage(out, width, pxMs, t0, m.start[j]!, m.start[j]! + m.dur[j]!, m.state[j]!);
  return j - a;
}

function addScaled(out: Float32Array, width: number, pxMs: number, t0: number, s: number, e: number, state: number, density: number): void {
  let x0 = Math.max(0, (s - t0) / pxMs);
  const x1 = Math.min(width, (e - t0) / pxMs);
  while (x0 < x1) {
    const c = Math.floor(x0);
    const next = Math.min(x1, c + 1);
    out[c * STATES + state]! += (next - x0) * pxMs * density;
    x0 = next;
  }
}

/** Bytes the model holds (typed arrays and LOD), for the bytes-per-slice budget. */
export function modelBytes(m: TimelineModel): number {
  let b = m.laneOffset.byteLength + m.start.byteLength + m.dur.byteLength + m.state.byteLength + m.stack.byteLength + m.labelledIdx.byteLength + m.labelledVal.byteLength;
  for (const lv of m.lod) for (const q of lv) b += q.byteLength;
  return b;
}

/** Decodes base64 to bytes, natively where the browser can. */
export function decodeBase64(s: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
