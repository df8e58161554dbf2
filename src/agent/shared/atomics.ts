/**
 * Atomics: per-site wrappers for instrumented calls (`__ppM.A(7, Atomics).add(…)`) and patches of
 * the global wait/notify/waitAsync (site 0) for uninstrumented code. Each operation
 *  - is an atomic access for race detection (atomic-read / atomic-write),
 *  - is a happens-before edge: releases join this thread's clock into the location's row of
 *    the shared sync table before the operation, acquires join the row after it,
 *  - is logged (columnar `atom` records) for lock analysis, with lock ownership tracked for
 *    the watchdog: a successful CAS/exchange from 0 acquires, a write back to 0 releases.
 * `wait` waits in slices so a blocked thread can see the watchdog's abort flag and flush.
 */
import { performance } from 'node:perf_hooks';
import { AtomOp, SITE_FID_SCALE, WaitResult } from '../../protocol/events';
import type { AgentContext } from '../extension';
import { recordAtomic } from './access';
import type { BufferRegistry, BufferState } from './buffers';
import type { VectorClock } from './clock';
import type { Control } from './control';
import { internalBuffers, nativeAtomics as N } from './native';
import { SLICE_MS, type Held, type Watchdog } from './watchdog';

const isView = ArrayBuffer.isView;

type Fn = (...a: any[]) => any;

/** Everything the wrappers need in this thread. */
export class AtomicsTracker {
  // Log columns (growable typed arrays: a hot spin loop must not make garbage per operation).
  private cap = 256;
  private len = 0;
  private cols = AtomicsTracker.columns(256);
  private readonly holds: Held[] = [];
  private readonly scratch = new Map<unknown, any>();
  private readonly perSite = new Map<number, object>();
  private lOff = 0;
  private lastSab: SharedArrayBuffer | null = null;
  private lastState: BufferState | null = null;
  /** µs clock: performance.now() (cheaper than hrtime.bigint) shifted onto ctx.now()'s axis; both read uv_hrtime. */
  private readonly shift: number;
  private now(): number {
    return performance.now() * 1000 + this.shift;
  }
  private lLen = 0;

  constructor(
    private readonly ctx: AgentContext,
    private readonly registry: BufferRegistry,
    private readonly clock: VectorClock,
    private readonly ctl: Control | null,
    private readonly watchdog: Watchdog | null,
    private readonly races: boolean,
    private readonly log: boolean,
  ) {
    this.shift = ctx.now() - performance.now() * 1000;
  }

  /** Locate an Atomics target: buffer state and byte offset, or null (not shared / invalid: native path). */
  private locate(ta: any, index: any): BufferState | null {
    if (!isView(ta) || ta instanceof DataView) return null;
    const b = (ta as any).buffer;
    if (!(b instanceof SharedArrayBuffer)) return null;
    let i: number;
    if (index === undefined) i = 0;
    else if (typeof index === 'number') i = Math.trunc(index);
    else return null;
    if (!(i >= 0 && i < (ta as any).length)) return null;
    const bpe = (ta as any).BYTES_PER_ELEMENT as number;
    this.lOff = ta.byteOffset + i * bpe;
    this.lLen = bpe;
    if (b === this.lastSab) return this.lastState!;
    this.lastSab = b;
    return (this.lastState = this.registry.get(b));
  }

  private rowOf(b: BufferState, off: number): number {
    return this.ctl!.row((b.hash ^ Math.imul(off + 1, 0x27d4eb2d)) >>> 0);
  }

  private lockRow(at: number): void {
    const i = this.ctl!.i32;
    while (N.compareExchange(i, at, 0, 1) !== 0) {
      /* held for a few dozen instructions by another thread */
    }
  }

  /** Release: row ⊔= my clock (before the operation becomes visible). */
  private release(b: BufferState, off: number): void {
    if (!this.races || !this.ctl || !this.clock.valid) return;
    const at = this.rowOf(b, off);
    this.lockRow(at);
    this.clock.releaseInto(this.ctl.i32, at + 2);
    N.store(this.ctl.i32, at, 0);
  }

  /** Acquire: my clock ⊔= row (after the operation). */
  private acquire(b: BufferState, off: number): void {
    if (!this.races || !this.ctl || !this.clock.valid) return;
    const at = this.rowOf(b, off);
    this.lockRow(at);
    try {
      this.clock.joinRow(this.ctl.i32, at + 2);
    } finally {
      N.store(this.ctl.i32, at, 0);
    }
  }

  private static columns(n: number) {
    const f = () => new Float64Array(n);
    return { us: f(), op: f(), buf: f(), off: f(), val: f(), res: f(), dur: f(), site: f(), n: f() };
  }

  private record(op: number, b: BufferState, off: number, val: number, res: number, dur: number, site: number, us: number): void {
    if (!this.log) return;
    const c = this.cols;
    const j = this.len - 1;
    if (
      j >= 0 && (op === AtomOp.CasFail || op === AtomOp.Load) && c.op[j] === op && c.buf[j] === b.idx && c.off[j] === off &&
      c.site[j] === site && c.res[j] === res && c.val[j] === val
    ) {
      c.n[j]!++;
      c.dur[j] = us - c.us[j]!;
      return;
    }
    if (this.len === this.cap) {
      this.cap *= 2;
      const g = AtomicsTracker.columns(this.cap);
      for (const k of Object.keys(g) as (keyof typeof g)[]) g[k].set(c[k]);
      this.cols = g;
    }
    const d = this.cols;
    const i = this.len++;
    d.us[i] = us;
    d.op[i] = op;
    d.buf[i] = b.idx;
    d.off[i] = off;
    d.val[i] = val;
    d.res[i] = res;
    d.dur[i] = dur;
    d.site[i] = site;
    d.n[i] = 1;
    if (this.len >= 50000) this.flush();
  }

  /** Write the buffered log as one `atom` record. */
  flush(): void {
    const n = this.len;
    if (n === 0) return;
    const c = this.cols;
    const col = (a: Float64Array): number[] => {
      const out = new Array<number>(n); // Array.from(typedArray) goes through the iterator: far slower
      for (let i = 0; i < n; i++) out[i] = a[i]!;
      return out;
    };
    this.ctx.write({
      k: 'atom', us: col(c.us), op: col(c.op), buf: col(c.buf), off: col(c.off), val: col(c.val), res: col(c.res), dur: col(c.dur),
      site: col(c.site), n: col(c.n),
    });
    this.len = 0;
  }

  /** The value an integer typed array would store for v (numbers and bigints only), else undefined. */
  private asStored(ta: any, v: unknown): unknown {
    if (typeof v !== 'number' && typeof v !== 'bigint') return undefined;
    let s = this.scratch.get(ta.constructor);
    if (!s) this.scratch.set(ta.constructor, (s = new ta.constructor(1)));
    try {
      s[0] = v;
    } catch {
      return undefined;
    }
    return s[0];
  }

  private noteLock(op: number, b: BufferState, off: number, val: unknown, res: unknown, site: number): void {
    if (!this.watchdog) return;
    const zero = (x: unknown): boolean => x === 0 || x === 0n;
    let acquired = false;
    let released = false;
    if (op === AtomOp.CasOk) acquired = !zero(val);
    else if (op === AtomOp.Exchange) {
      acquired = zero(res) && !zero(val);
      released = !zero(res) && zero(val);
    } else if (op === AtomOp.Store) released = zero(val);
    else if (op === AtomOp.Sub) released = res === val && !zero(res);
    if (acquired && this.holds.length < 64) {
      this.holds.push({ bufTid: b.idTid, bufN: b.idN, off, site });
      this.watchdog.setHolds(this.holds);
    } else if (released) {
      const k = this.holds.findIndex((h) => h.bufTid === b.idTid && h.bufN === b.idN && h.off === off);
      if (k >= 0) {
        this.holds.splice(k, 1);
        this.watchdog.setHolds(this.holds);
      }
    }
  }

  private rmw(code: number, native: Fn): (site: number, ta: any, index: any, v: any) => any {
    return (site, ta, index, v) => {
      const b = this.locate(ta, index);
      if (!b) return native(ta, index, v);
      const off = this.lOff;
      if (this.races) recordAtomic(b, off, this.lLen, true, site);
      this.release(b, off);
      const res = native(ta, index, v);
      const us = this.now();
      this.acquire(b, off);
      if (this.races) this.clock.tick();
      this.record(code, b, off, num(v), num(res), 0, site, us);
      this.noteLock(code, b, off, v, res, site);
      return res;
    };
  }

  private load(site: number, ta: any, index: any): any {
    const b = this.locate(ta, index);
    if (!b) return N.load(ta, index);
    const off = this.lOff;
    if (this.races) recordAtomic(b, off, this.lLen, false, site);
    const res = N.load(ta, index);
    const us = this.now();
    this.acquire(b, off);
    this.record(AtomOp.Load, b, off, 0, num(res), 0, site, us);
    return res;
  }

  private store(site: number, ta: any, index: any, v: any): any {
    const b = this.locate(ta, index);
    if (!b) return N.store(ta, index, v);
    const off = this.lOff;
    if (this.races) recordAtomic(b, off, this.lLen, true, site);
    this.release(b, off);
    const res = N.store(ta, index, v);
    const us = this.now();
    if (this.races) this.clock.tick();
    this.record(AtomOp.Store, b, off, num(res), num(res), 0, site, us);
    this.noteLock(AtomOp.Store, b, off, this.asStored(ta, res), undefined, site);
    return res;
  }

  private cas(site: number, ta: any, index: any, expected: any, replacement: any): any {
    const b = this.locate(ta, index);
    if (!b) return N.compareExchange(ta, index, expected, replacement);
    const off = this.lOff;
    this.release(b, off);
    const res = N.compareExchange(ta, index, expected, replacement);
    const us = this.now();
    const ok = res === this.asStored(ta, expected);
    if (this.races) recordAtomic(b, off, this.lLen, ok, site);
    this.acquire(b, off);
    if (this.races) this.clock.tick();
    const code = ok ? AtomOp.CasOk : AtomOp.CasFail;
    this.record(code, b, off, num(replacement), num(res), 0, site, us);
    if (ok) this.noteLock(code, b, off, this.asStored(ta, replacement), res, site);
    return res;
  }

  private notify(site: number, ta: any, index: any, count: any): any {
    const b = this.locate(ta, index);
    if (!b) return N.notify(ta, index, count);
    const off = this.lOff;
    this.release(b, off);
    if (this.ctl) N.add(this.ctl.i32, this.rowOf(b, off) + 1, 1); // wake generation (see wait)
    const res = N.notify(ta, index, count);
    const us = this.now();
    if (this.races) this.clock.tick();
    this.record(AtomOp.Notify, b, off, count === undefined ? -1 : num(count), res, 0, site, us);
    return res;
  }

  private wait(site: number, ta: any, index: any, value: any, timeout: any): any {
    const b = this.locate(ta, index);
    const waitable = ta instanceof Int32Array || ta instanceof BigInt64Array;
    if (!b || !waitable || (timeout !== undefined && typeof timeout !== 'number')) return N.wait(ta, index, value, timeout);
    const off = this.lOff;
    if (this.races) recordAtomic(b, off, this.lLen, false, site);
    const t0 = this.now();
    let result: string;
    const wd = this.watchdog;
    if (!wd || !this.ctl) {
      result = (N.wait as Fn)(ta, index, value, timeout);
    } else {
      let left = timeout === undefined || Number.isNaN(timeout) ? Infinity : Math.max(timeout, 0);
      const gen = this.rowOf(b, off) + 1;
      wd.enterWait(b.idTid, b.idN, off, site);
      let flushed = false;
      let first = true;
      try {
        for (;; first = false) {
          const slice = Math.min(left, SLICE_MS);
          const start = Date.now();
          result = (N.wait as Fn)(ta, index, value, slice);
          left -= Date.now() - start;
          if (result !== 'timed-out' || left <= 0) {
            // A changed value after the first slice means we were (or would have been) woken.
            if (result === 'not-equal' && !first) result = 'ok';
            break;
          }
          const g0 = N.load(this.ctl.i32, gen);
          if (!flushed) {
            flushed = true;
            this.flush();
            this.ctx.flush();
          }
          wd.between();
          if (N.load(this.ctl.i32, gen) !== g0) {
            result = 'ok'; // a notify landed between two slices: it was meant for waiters like us
            break;
          }
        }
      } finally {
        wd.leaveWait();
      }
    }
    const us = this.now();
    this.acquire(b, off);
    this.record(AtomOp.Wait, b, off, num(value), waitCode(result), us - t0, site, t0);
    return result;
  }

  private waitAsync(site: number, ta: any, index: any, value: any, timeout: any): any {
    const native = N.waitAsync!;
    const b = this.locate(ta, index);
    if (!b) return native(ta, index, value, timeout);
    const off = this.lOff;
    if (this.races) recordAtomic(b, off, this.lLen, false, site);
    const t0 = this.now();
    const r = native(ta, index, value, timeout);
    const done = (res: string): string => {
      const us = this.now();
      this.acquire(b, off);
      this.record(AtomOp.WaitAsync, b, off, num(value), waitCode(res), us - t0, site, t0);
      return res;
    };
    if (!r.async) {
      done(r.value);
      return r;
    }
    return { async: true, value: (r.value as Promise<string>).then(done) };
  }

  /** The Atomics wrapper object of one site (methods carry the site; the rest is Atomics' own). */
  forSite(site: number): object {
    let w = this.perSite.get(site);
    if (w) return w;
    const A = Atomics as any;
    const rmw = (code: number, f: Fn) => {
      const g = this.rmw(code, f);
      return (ta: any, i: any, v: any) => g(site, ta, i, v);
    };
    w = Object.create(A, {
      load: { value: (ta: any, i: any) => this.load(site, ta, i), writable: true, configurable: true },
      store: { value: (ta: any, i: any, v: any) => this.store(site, ta, i, v), writable: true, configurable: true },
      add: { value: rmw(AtomOp.Add, N.add), writable: true, configurable: true },
      sub: { value: rmw(AtomOp.Sub, N.sub), writable: true, configurable: true },
      and: { value: rmw(AtomOp.And, N.and), writable: true, configurable: true },
      or: { value: rmw(AtomOp.Or, N.or), writable: true, configurable: true },
      xor: { value: rmw(AtomOp.Xor, N.xor), writable: true, configurable: true },
      exchange: { value: rmw(AtomOp.Exchange, N.exchange), writable: true, configurable: true },
      compareExchange: { value: (ta: any, i: any, e: any, r: any) => this.cas(site, ta, i, e, r), writable: true, configurable: true },
      wait: { value: (ta: any, i: any, v: any, t: any) => this.wait(site, ta, i, v, t), writable: true, configurable: true },
      notify: { value: (ta: any, i: any, c: any) => this.notify(site, ta, i, c), writable: true, configurable: true },
      ...(N.waitAsync ? { waitAsync: { value: (ta: any, i: any, v: any, t: any) => this.waitAsync(site, ta, i, v, t), writable: true, configurable: true } } : {}),
    });
    this.perSite.set(site, w!);
    return w!;
  }

  /** Patch the global Atomics.wait/notify/waitAsync so uninstrumented code still yields blocked intervals (site 0). */
  patchGlobal(): void {
    const doWait = (ta: any, i: any, v: any, t: any): any => this.wait(0, ta, i, v, t);
    const doNotify = (ta: any, i: any, c: any): any => this.notify(0, ta, i, c);
    const doWaitAsync = (ta: any, i: any, v: any, t: any): any => this.waitAsync(0, ta, i, v, t);
    const A = Atomics as any;
    const def = (name: string, f: Fn): void => {
      Object.defineProperty(f, 'name', { value: name });
      Object.defineProperty(A, name, { value: f, writable: true, configurable: true, enumerable: false });
    };
    const internal = (ta: any): boolean => isView(ta) && internalBuffers.has((ta as any).buffer);
    def('wait', function wait(ta: any, i: any, v: any, t: any) {
      return internal(ta) ? (N.wait as Fn)(ta, i, v, t) : doWait(ta, i, v, t);
    });
    def('notify', function notify(ta: any, i: any, c: any) {
      return internal(ta) ? N.notify(ta, i, c) : doNotify(ta, i, c);
    });
    if (N.waitAsync) {
      def('waitAsync', function waitAsync(ta: any, i: any, v: any, t: any) {
        return internal(ta) ? N.waitAsync!(ta, i, v, t) : doWaitAsync(ta, i, v, t);
      });
    }
  }
}

function num(x: unknown): number {
  if (typeof x === 'number') return Number.isFinite(x) ? x : 0;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'string') {
    const n = Number(x);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
}

function waitCode(r: string): number {
  return r === 'ok' ? WaitResult.Ok : r === 'not-equal' ? WaitResult.NotEqual : WaitResult.TimedOut;
}

/** The module-runtime method behind `__ppM.A(s, Atomics)`. */
export function makeAtomicsMethod(get: () => AtomicsTracker | null): (this: { fid: number; aw?: object[] }, s: number, obj: unknown) => unknown {
  return function A(this: { fid: number; aw?: object[] }, s: number, obj: unknown): unknown {
    if (obj !== Atomics) return obj;
    const have = this.aw?.[s];
    if (have) return have;
    const t = get();
    if (!t) return obj;
    return ((this.aw ??= [])[s] = t.forSite(this.fid * SITE_FID_SCALE + s));
  };
}
