/**
 * Method calls and whole-view reads of shared views: typed-array range methods, DataView
 * get/set and Node Buffer methods through `__ppM.tm` (the arguments say which bytes), whole-view
 * readers through `__ppM.v` (receiver checked, call as written), spreads and copies through
 * `__ppM.it`, and iteration that may stop or synchronise through `__ppM.io` (element by element).
 */
import { AccessKind, SITE_FID_SCALE } from '../../protocol/events';
import { BUFFER_SIZE, BUFFER_SIZED, CALLBACK_READERS, DV_SIZE, ELEMENT_ITERATORS, READ_ALL, SEARCHES, WRITE_ALL } from './methods';
import { enabled, isView, on, recordRange, registry, tagOf, type ViewTag } from './segment';

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

/** SameValueZero, the equality `includes` uses. */
function sameValueZero(x: unknown, y: unknown): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

/**
 * Elements an indexOf / lastIndexOf / includes call read, from its result: up to and including
 * the match, or every element it searched when there was none. For a Node Buffer searching a
 * string or bytes, the match's bytes (up to the match's end for a forward search).
 */
function noteSearch(m: { fid: number }, o: any, name: string, args: unknown[], s: number, result: unknown): void {
  const len = o.length as number;
  const R = AccessKind.Read;
  const needle = args[0];
  if (Buffer.isBuffer(o) && typeof needle !== 'number') {
    const at = name === 'includes' ? (result === true ? (o as any).indexOf(...args) : -1) : (result as number);
    const n = typeof needle === 'string' ? Buffer.byteLength(needle, typeof args[2] === 'string' ? (args[2] as BufferEncoding) : 'utf8') : isView(needle) ? (needle as Uint8Array).byteLength : 0;
    const from = typeof args[1] === 'number' && Number.isInteger(args[1]) ? (args[1] < 0 ? Math.max(len + args[1], 0) : Math.min(args[1], len)) : name === 'lastIndexOf' ? len : 0;
    if (typeof at !== 'number' || at < 0) viewRange(m, o, name === 'lastIndexOf' ? 0 : from, name === 'lastIndexOf' ? Math.min(len, from + n) : len, R, s);
    else viewRange(m, o, name === 'lastIndexOf' ? at : from, Math.min(len, at + Math.max(n, 1)), R, s);
    return;
  }
  if (name === 'lastIndexOf') {
    // fromIndex present (even undefined) counts: lastIndexOf(x, undefined) searches index 0 only.
    let k: number;
    if (args.length < 2) k = len - 1;
    else {
      const f = args[1];
      if (f !== undefined && typeof f !== 'number') return;
      const n = f === undefined || Number.isNaN(f) ? 0 : Math.trunc(f);
      k = n < 0 ? len + n : Math.min(n, len - 1);
    }
    if (k < 0) return;
    const r = result as number;
    viewRange(m, o, r >= 0 && r <= k ? r : 0, k + 1, R, s);
    return;
  }
  const from = rel(args[1], len, 0);
  if (from === null) return;
  let r = -1;
  if (name === 'indexOf') r = result as number;
  else if (result === true) {
    for (let i = from; i < len; i++) {
      if (sameValueZero(o[i], needle)) {
        r = i;
        break;
      }
    }
  }
  viewRange(m, o, from, r >= from ? r + 1 : len, R, s);
}

/** A callback for find/some/every… that records each element of the shared view as it is handed over. */
function readingCallback(m: { fid: number }, o: ArrayBufferView, t: ViewTag, s: number, f: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  const site = m.fid * SITE_FID_SCALE + s;
  return function (this: unknown, value: unknown, i: unknown, arr: unknown) {
    if (typeof i === 'number') recordRange(t.b.idx, o.byteOffset + i * t.bpe, t.bpe, AccessKind.Read, site);
    return f.call(this, value, i, arr);
  };
}

/** Elements (or [index, element] pairs) of a shared view, each recorded as it is yielded. */
function* yieldEach(m: { fid: number }, x: any, t: ViewTag, s: number, pairs: boolean): Generator<unknown, void, unknown> {
  const site = m.fid * SITE_FID_SCALE + s;
  for (let i = 0; i < x.length; i++) {
    recordRange(t.b.idx, x.byteOffset + i * t.bpe, t.bpe, AccessKind.Read, site);
    yield pairs ? [i, x[i]] : x[i];
  }
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
  if (SEARCHES.has(name)) {
    noteSearch(m, o, name, args, s, result);
  } else if (WRITE_ALL.has(name)) {
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
export function tm(this: { fid: number }, s: number, o: any, name: string, a?: unknown, b?: unknown, c?: unknown, d?: unknown): any {
  const n = arguments.length - 3;
  if (enabled && n <= 2 && (CALLBACK_READERS.has(name) || ELEMENT_ITERATORS.has(name)) && isView(o) && !(o instanceof DataView)) {
    const t = tagOf(o);
    if (t !== null) {
      if (ELEMENT_ITERATORS.has(name)) {
        if (n === 0 && typeof (o as any)[name] === 'function') {
          (o as any)[name](); // throws where the native one would (a detached or out-of-bounds view)
          return yieldEach(this, o, t, s, name === 'entries');
        }
      } else if (typeof a === 'function') {
        a = readingCallback(this, o, t, s, a as (...x: unknown[]) => unknown);
      }
    }
  }
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
export function v(this: { fid: number }, o: any, s: number): any {
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
export function io(this: { fid: number }, x: any, s: number): any {
  if (!enabled || !isView(x) || x instanceof DataView) return x;
  const t = tagOf(x);
  return t === null ? x : readEach(this, x, t, s);
}

/** `...x` or `for (… of x)` (body cannot synchronise or leave early): reads the whole view; returns x. */
export function it(this: { fid: number }, x: any, s: number): any {
  if (on && isView(x) && !(x instanceof DataView)) viewRange(this, x, 0, (x as any).length, AccessKind.Read, s);
  return x;
}
