/**
 * Atomics: per-site wrappers for instrumented calls (`__ppM.A(7, Atomics).add(…)`) and patches of
 * the global wait/notify/waitAsync (site 0) for uninstrumented code. Each operation
 *  - is an atomic access for race detection (atomic-read / atomic-write),
 *  - is a happens-before edge, under the lock of the location's row of the shared sync table:
 *    a store replaces the row with this thread's clock (a load syncs with the store it read,
 *    not with every earlier one), an RMW or successful compareExchange merges into it, a load
 *    or RMW joins it after the operation; a row two locations share only merges,
 *  - goes into the compressed Atomics log (atomicsLog.ts) for lock analysis: an uncontended
 *    lock/unlock that repeats costs a few compares,
 *  - keeps the watchdog's picture: locks held (published only when someone may read them),
 *    waits that cannot end by themselves, spins that change nothing.
 * `wait` waits in slices so a blocked thread can see the watchdog's abort flag and flush.
 */
import { performance } from 'node:perf_hooks';
import { AtomOp, SITE_FID_SCALE, WaitResult } from '../../protocol/events';
import type { AgentContext } from '../extension';
import { noteSite, recordAtomic } from './access';
import { AtomicsLog } from './atomicsLog';
import type { BufferRegistry, BufferState } from './buffers';
import type { VectorClock } from './clock';
import { H_GENWAIT, H_WAITERS, ROW_CLOCKS, ROW_MIXED, ROW_TAG, type Control } from './control';
import { HeldLocks } from './heldLocks';
import { internalBuffers, lockWord, nativeAtomics as N, unlockWord } from './native';
import { SLICE_MS, type Watchdog } from './watchdog';
import { perfOriginUs } from '../writer';

const isView = ArrayBuffer.isView;
type Fn = (...a: any[]) => any;

// Local copies: a const enum read through a transpiled module is a getter call per use.
const OP_LOAD = AtomOp.Load as number;
const OP_STORE = AtomOp.Store as number;
const OP_EXCHANGE = AtomOp.Exchange as number;
const OP_CASOK = AtomOp.CasOk as number;
const OP_CASFAIL = AtomOp.CasFail as number;
const OP_NOTIFY = AtomOp.Notify as number;
const OP_WAIT = AtomOp.Wait as number;
const OP_WAITASYNC = AtomOp.WaitAsync as number;
/** Flush the thread's records from a wait at most this often (a killed program keeps what came before). */
const WAIT_FLUSH_US = 1_000_000;

/** One call site's memo of its last target: the same (view, index) skips every check. */
interface SiteCache {
  site: number;
  ta: unknown;
  idx: unknown;
  b: BufferState | null;
  off: number;
  len: number;
  /** The target is an Int32Array: small integer operands are stored as they are. */
  i32: boolean;
}

/** Everything the wrappers need in this thread. */
export class AtomicsTracker {
  private readonly log: AtomicsLog | null;
  private readonly held: HeldLocks | null;
  private readonly scratch = new Map<unknown, any>();
  private readonly perSite = new Map<number, object>();
  private readonly global: SiteCache = { site: 0, ta: null, idx: null, b: null, off: 0, len: 0, i32: false };
  /** µs clock: performance.now() (cheaper than hrtime.bigint) shifted onto ctx.now()'s axis; both read uv_hrtime. */
  private readonly shift: number;
  /** Bumped by every operation that changes memory or ends a wait woken: a wait retried without it is "no progress". */
  private progress = 0;
  private lastWait = { key: -1, progress: -1, woken: true, since: 0 };
  private lastFlushUs = 0;
  private spinning = false;
  private readonly asyncWaits = new Set<{ b: BufferState; off: number; site: number; since: number }>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly registry: BufferRegistry,
    private readonly clock: VectorClock,
    private readonly ctl: Control | null,
    private readonly watchdog: Watchdog | null,
    private readonly races: boolean,
    logOps: boolean,
  ) {
    this.shift = perfOriginUs(() => ctx.now());
    const wd = watchdog?.active ? watchdog : null;
    this.held = wd ? new HeldLocks(wd, (site) => site && noteSite(site)) : null;
    // Covered operations skip the held-lock bookkeeping: a run repeats a cycle whose effect on
    // what is held the logged ops already applied, so replaying its last cycle when it closes
    // leaves the same state.
    this.log = logOps
      ? new AtomicsLog(
          () => this.now(),
          (cols) => this.ctx.write({ k: 'atom', ...cols }),
          wd ? (p) => this.checkSpin(p) : null,
          this.held ? (ops) => this.replayHolds(ops) : null,
        )
      : null;
    wd?.attach({
      publishHolds: () => this.held?.publish(),
      pendingAsync: () => {
        for (const w of this.asyncWaits) return { bufTid: w.b.idTid, bufN: w.b.idN, off: w.off, site: w.site, sinceUs: w.since };
        return null;
      },
    });
  }

  private now(): number {
    return performance.now() * 1000 + this.shift;
  }

  /** Fill the site cache for (ta, index); false when the target is not a valid shared-memory element (native path). */
  private locate(sc: SiteCache, ta: any, index: any): boolean {
    if (!isView(ta) || ta instanceof DataView) return false;
    const b = (ta as any).buffer;
    if (!(b instanceof SharedArrayBuffer)) return false;
    let i: number;
    if (index === undefined) i = 0;
    else if (typeof index === 'number') i = Math.trunc(index);
    else return false;
    if (!(i >= 0 && i < (ta as any).length)) return false;
    const bpe = (ta as any).BYTES_PER_ELEMENT as number;
    sc.b = sc.b && sc.ta === ta ? sc.b : this.registry.get(b);
    sc.off = ta.byteOffset + i * bpe;
    sc.len = bpe;
    sc.i32 = ta instanceof Int32Array;
    // A SharedArrayBuffer never shrinks: a valid (view, index) stays valid.
    sc.ta = ta;
    sc.idx = index;
    return true;
  }

  /** Sync-table row of a location (salt 1: its notify row, which only woken waits acquire). */
  private rowOf(b: BufferState, off: number, salt = 0): number {
    // Mix every bit of the offset into the low bits the table keeps: words 1 KiB apart must not share a row.
    let h = Math.imul(b.hash ^ off ^ (salt * 0x5bd1e995), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return this.ctl!.row(h >>> 0);
  }

  /**
   * Under the row lock: true when the row serves this location alone (an unused row is claimed).
   * A row two locations hash to is marked mixed for good: there releases only merge clocks
   * (extra edges at worst), never replace one location's history with another's.
   */
  private ownRow(at: number, b: BufferState, off: number, salt: number): boolean {
    const i = this.ctl!.i32;
    const o = salt ? -(off + 2) : off + 1;
    const to = i[at + ROW_TAG + 1]!;
    if (to === 0) {
      i[at + ROW_TAG] = b.hash | 0;
      i[at + ROW_TAG + 1] = o;
      return true;
    }
    if (to === o && i[at + ROW_TAG] === (b.hash | 0)) return true;
    i[at + ROW_TAG + 1] = ROW_MIXED;
    return false;
  }

  /** Release: row ⊔= my clock (before the operation becomes visible). */
  private release(b: BufferState, off: number, salt = 0): void {
    if (!this.ctl || !this.clock.valid) return;
    const at = this.rowOf(b, off, salt);
    lockWord(this.ctl.i32, at);
    this.ownRow(at, b, off, salt);
    this.clock.releaseInto(this.ctl.i32, at + ROW_CLOCKS);
    unlockWord(this.ctl.i32, at);
  }

  /** Acquire: my clock ⊔= row (after the operation). */
  private acquire(b: BufferState, off: number, salt = 0): void {
    if (!this.ctl || !this.clock.valid) return;
    const at = this.rowOf(b, off, salt);
    lockWord(this.ctl.i32, at);
    try {
      this.clock.joinRow(this.ctl.i32, at + ROW_CLOCKS);
    } finally {
      unlockWord(this.ctl.i32, at);
    }
  }

  /**
   * `op()` (the native operation) under the location's row lock, with its release and acquire:
   * a load acquires the clock of the store it read, not of every store before it; a store
   * replaces the row (a later load syncs with it alone), an RMW merges (it read what it
   * replaces). Without race detection just op().
   */
  private synced(b: BufferState, off: number, releaseOf: 'store' | 'rmw' | null | (() => 'rmw' | null), acquire: boolean, op: () => any): any {
    if (!this.ctl || !this.clock.valid) return op();
    const i = this.ctl.i32;
    const at = this.rowOf(b, off);
    lockWord(i, at); // held for a few dozen instructions by another thread
    try {
      const res = op();
      if (acquire) this.clock.joinRow(i, at + ROW_CLOCKS);
      // A compareExchange releases only when it succeeded, which is known only after it ran.
      const release = typeof releaseOf === 'function' ? releaseOf() : releaseOf;
      if (release !== null) {
        if (this.ownRow(at, b, off, 0) && release === 'store') this.clock.storeInto(i, at + ROW_CLOCKS);
        else this.clock.releaseInto(i, at + ROW_CLOCKS);
      }
      return res;
    } finally {
      unlockWord(i, at);
    }
  }

  /** The value a typed array stores for v (numbers and bigints only), else undefined. */
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

  /** The stored value of v as a number (exact for int32 values in an Int32Array without a round trip). */
  private storedNum(sc: SiteCache, ta: any, v: unknown): number {
    if (sc.i32 && typeof v === 'number' && (v | 0) === v) return v;
    return num(this.asStored(ta, v));
  }

  private rmw(code: number, native: Fn): (sc: SiteCache, ta: any, index: any, v: any) => any {
    return (sc, ta, index, v) => {
      if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return native(ta, index, v);
      const b = sc.b!;
      const off = sc.off;
      let res: any;
      if (this.races) {
        recordAtomic(b, off, sc.len, true, sc.site);
        res = this.synced(b, off, 'rmw', true, () => native(ta, index, v));
        this.clock.tick();
      } else res = native(ta, index, v);
      const val = num(v);
      const old = num(res);
      if (!this.log?.op(code, b.idx, off, val, old, sc.site)) this.held?.onWrite(code, b, off, this.storedNum(sc, ta, v), old, sc.site);
      if (code !== OP_EXCHANGE || val !== old) {
        this.progress++;
        if (this.spinning) this.stopSpin();
      }
      return res;
    };
  }

  private load(sc: SiteCache, ta: any, index: any): any {
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return N.load(ta, index);
    const b = sc.b!;
    const off = sc.off;
    let res: any;
    if (this.races) {
      recordAtomic(b, off, sc.len, false, sc.site);
      res = this.synced(b, off, null, true, () => N.load(ta, index));
    } else res = N.load(ta, index);
    this.log?.op(OP_LOAD, b.idx, off, 0, num(res), sc.site);
    return res;
  }

  private store(sc: SiteCache, ta: any, index: any, v: any): any {
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return N.store(ta, index, v);
    const b = sc.b!;
    const off = sc.off;
    let res: any;
    if (this.races) {
      recordAtomic(b, off, sc.len, true, sc.site);
      res = this.synced(b, off, 'store', false, () => N.store(ta, index, v));
      this.clock.tick();
    } else res = N.store(ta, index, v);
    this.progress++;
    const val = num(res);
    if (!this.log?.op(OP_STORE, b.idx, off, val, val, sc.site)) this.held?.onWrite(OP_STORE, b, off, this.storedNum(sc, ta, res), NaN, sc.site);
    if (this.spinning) this.stopSpin();
    return res;
  }

  private cas(sc: SiteCache, ta: any, index: any, expected: any, replacement: any): any {
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return N.compareExchange(ta, index, expected, replacement);
    const b = sc.b!;
    const off = sc.off;
    let res: any;
    let ok: boolean;
    if (this.races) {
      // A failed exchange writes nothing and so releases nothing; under the row lock a thread
      // that reads the new value acquires the row after this release. (The closures live in
      // this block only: the lock-only path allocates nothing per call.)
      let won = false;
      res = this.synced(
        b,
        off,
        () => (won ? 'rmw' : null),
        true,
        () => {
          const r = N.compareExchange(ta, index, expected, replacement);
          won = r === expected || r === this.asStored(ta, expected);
          return r;
        },
      );
      ok = won;
      recordAtomic(b, off, sc.len, ok, sc.site);
      if (ok) this.clock.tick();
    } else {
      res = N.compareExchange(ta, index, expected, replacement);
      ok = res === expected || res === this.asStored(ta, expected);
    }
    const old = num(res);
    if (ok) {
      const val = this.storedNum(sc, ta, replacement);
      if (val !== old) this.progress++;
      if (!this.log?.op(OP_CASOK, b.idx, off, val, old, sc.site)) this.held?.onWrite(OP_CASOK, b, off, val, old, sc.site);
      if (this.spinning) this.stopSpin();
    } else {
      if (!this.log?.op(OP_CASFAIL, b.idx, off, num(replacement), old, sc.site)) this.held?.onCasFail(b, off, this.storedNum(sc, ta, expected));
    }
    return res;
  }

  private notify(sc: SiteCache, ta: any, index: any, count: any): any {
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return N.notify(ta, index, count);
    const b = sc.b!;
    const off = sc.off;
    // A notify orders only the waits it wakes: its own row, which stores and loads never touch.
    if (this.races) this.release(b, off, 1);
    const ctl = this.ctl;
    // Wake generation (see wait), only while some thread is in a sliced wait: an atomic add on a
    // shared line per notify was most of an uncontended unlock's cost.
    if (ctl && N.load(ctl.i32, H_WAITERS) > 0) {
      const gen = this.rowOf(b, off) + 1;
      N.add(ctl.i32, gen, 1);
      if (N.load(ctl.i32, H_GENWAIT) > 0) N.notify(ctl.i32, gen);
    }
    const res = N.notify(ta, index, count);
    if (this.races) this.clock.tick();
    const c = count === undefined ? -1 : num(count);
    if (res > 0) this.log?.timed(OP_NOTIFY, b.idx, off, c, res, 0, sc.site, this.now());
    else this.log?.op(OP_NOTIFY, b.idx, off, c, 0, sc.site);
    return res;
  }

  /** Time to flush before blocking: the program may be killed while it sleeps. */
  private maybeFlush(t: number): void {
    if (t - this.lastFlushUs < WAIT_FLUSH_US) return;
    this.lastFlushUs = t;
    this.log?.flush();
    this.ctx.flush();
  }

  private wait(sc: SiteCache, ta: any, index: any, value: any, timeout: any): any {
    const waitable = ta instanceof Int32Array || ta instanceof BigInt64Array;
    if (!waitable || (timeout !== undefined && typeof timeout !== 'number')) return (N.wait as Fn)(ta, index, value, timeout);
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return (N.wait as Fn)(ta, index, value, timeout);
    const b = sc.b!;
    const off = sc.off;
    if (this.races) {
      recordAtomic(b, off, sc.len, false, sc.site);
      this.acquire(b, off); // the value check is an atomic read, made as the wait begins
    }
    const t0 = this.now();
    let result: string;
    const wd = this.watchdog;
    const ctl = this.ctl;
    if (!wd || !ctl) {
      result = (N.wait as Fn)(ta, index, value, timeout);
    } else {
      let left = timeout === undefined || Number.isNaN(timeout) ? Infinity : Math.max(timeout, 0);
      // A wait retried on the same word without any progress since the last one timed out is
      // blocked from the first one on (a lock taken with a timed wait in a retry loop).
      const key = b.idx * 4294967296 + off;
      const lw = this.lastWait;
      const retry = lw.key === key && lw.progress === this.progress && !lw.woken;
      const since = retry ? lw.since : t0;
      this.maybeFlush(t0);
      if (wd.active) wd.enterWait(b.idTid, b.idN, off, sc.site, since, left === Infinity || retry);
      const gen = this.rowOf(b, off) + 1;
      N.add(ctl.i32, H_WAITERS, 1); // before reading the generation: notifies from now on bump it
      let g0 = N.load(ctl.i32, gen);
      let flushed = false;
      try {
        for (let first = true; ; first = false) {
          const slice = Math.min(left, SLICE_MS);
          const start = Date.now();
          result = (N.wait as Fn)(ta, index, value, slice);
          left -= Date.now() - start;
          if (result === 'ok' || (result === 'not-equal' && first)) break;
          if (result === 'not-equal') {
            // The value changed without a notify while we were between slices: a real wait would
            // still be asleep, so sleep on until a notify on this location (its generation) or the timeout.
            result = this.sleepOnGeneration(gen, g0, left);
            break;
          }
          if (left <= 0) break;
          if (!flushed) {
            flushed = true;
            if (sc.site) noteSite(sc.site); // a long wait: its stack says who called the lock helper
            this.log?.flush();
            this.ctx.flush();
          }
          wd.between();
          this.ctx.poll?.();
          const g = N.load(ctl.i32, gen);
          if (g !== g0) {
            result = 'ok'; // a notify landed between two slices: it was meant for waiters like us
            break;
          }
          g0 = g;
        }
      } finally {
        N.sub(ctl.i32, H_WAITERS, 1);
        wd.leaveWait();
      }
      this.lastWait = { key, progress: this.progress, woken: result === 'ok', since };
    }
    const us = this.now();
    if (this.races && result === 'ok') this.acquire(b, off, 1);
    if (result === 'ok') this.progress++;
    this.log?.timed(OP_WAIT, b.idx, off, num(value), waitCode(result), us - t0, sc.site, t0);
    return result;
  }

  /** Sleep on a sync row's generation word until it moves (a notify) or `left` ms pass. */
  private sleepOnGeneration(gen: number, g0: number, left: number): string {
    const i = this.ctl!.i32;
    N.add(i, H_GENWAIT, 1);
    try {
      while (left > 0) {
        if (N.load(i, gen) !== g0) return 'ok';
        const start = Date.now();
        N.wait(i, gen, g0, Math.min(left, SLICE_MS));
        left -= Date.now() - start;
        this.watchdog?.between();
        this.ctx.poll?.();
      }
      return N.load(i, gen) !== g0 ? 'ok' : 'timed-out';
    } finally {
      N.sub(i, H_GENWAIT, 1);
    }
  }

  private waitAsync(sc: SiteCache, ta: any, index: any, value: any, timeout: any): any {
    const native = N.waitAsync!;
    if (!(ta === sc.ta && index === sc.idx) && !this.locate(sc, ta, index)) return native(ta, index, value, timeout);
    const b = sc.b!;
    const off = sc.off;
    if (this.races) {
      recordAtomic(b, off, sc.len, false, sc.site);
      this.acquire(b, off);
    }
    const t0 = this.now();
    const r = native(ta, index, value, timeout);
    const done = (res: string): string => {
      const us = this.now();
      if (this.races && res === 'ok') this.acquire(b, off, 1);
      if (res === 'ok') this.progress++;
      this.log?.timed(OP_WAITASYNC, b.idx, off, num(value), waitCode(res), us - t0, sc.site, t0);
      return res;
    };
    if (!r.async) {
      done(r.value);
      return r;
    }
    const finite = typeof timeout === 'number' && Number.isFinite(timeout);
    const entry = { b, off, site: sc.site, since: t0 };
    if (!finite && this.held) this.asyncWaits.add(entry); // an untimed async wait only another thread can end
    return {
      async: true,
      value: (r.value as Promise<string>).then((res) => {
        this.asyncWaits.delete(entry);
        return done(res);
      }),
    };
  }

  /**
   * Called every few hundred covered operations of a run: a run whose cycle only fails or
   * re-reads (no op changes memory) is a spin; tell the watchdog, which may find every thread
   * stuck, and let it look now (a spinning thread never reaches its event loop).
   */
  private checkSpin(p: number): void {
    const wd = this.watchdog;
    const log = this.log;
    if (!wd || !log) return;
    const run = log.pendingRun();
    if (!run || !log.cycleChangesNothing(p)) return;
    if (!this.spinning) {
      const [, buf, off, site] = log.cycle(p)[p - 1]!;
      const b = this.registry.byIdx(buf!);
      if (!b) return;
      this.spinning = true;
      wd.enterSpin(b.idTid, b.idN, off!, site!, run.sinceUs);
      this.maybeFlush(this.now());
    }
    wd.between();
    this.ctx.poll?.();
  }

  /** Bring the held locks up to date after a run: its last cycle's writes, in order. */
  private replayHolds(ops: number[][]): void {
    for (const [op, buf, off, site, val, res] of ops) {
      if (op === OP_LOAD || op === OP_NOTIFY || op === OP_CASFAIL) continue;
      const b = this.registry.byIdx(buf!);
      if (b) this.held!.onWrite(op!, b, off!, val!, op === OP_STORE ? NaN : res!, site!);
    }
  }

  private stopSpin(): void {
    this.spinning = false;
    this.watchdog?.leaveWait();
  }

  /** Write the buffered log. */
  flush(): void {
    this.log?.flush();
  }

  /** The Atomics wrapper object of one site (methods carry the site; the rest is Atomics' own). */
  forSite(site: number): object {
    let w = this.perSite.get(site);
    if (w) return w;
    const sc: SiteCache = { site, ta: null, idx: null, b: null, off: 0, len: 0, i32: false };
    const A = Atomics as any;
    const method = (value: Fn) => ({ value, writable: true, configurable: true });
    const rmw = (code: number, f: Fn) => {
      const g = this.rmw(code, f);
      return method((ta: any, i: any, v: any) => g(sc, ta, i, v));
    };
    w = Object.create(A, {
      load: method((ta: any, i: any) => this.load(sc, ta, i)),
      store: method((ta: any, i: any, v: any) => this.store(sc, ta, i, v)),
      add: rmw(AtomOp.Add, N.add),
      sub: rmw(AtomOp.Sub, N.sub),
      and: rmw(AtomOp.And, N.and),
      or: rmw(AtomOp.Or, N.or),
      xor: rmw(AtomOp.Xor, N.xor),
      exchange: rmw(AtomOp.Exchange, N.exchange),
      compareExchange: method((ta: any, i: any, e: any, r: any) => this.cas(sc, ta, i, e, r)),
      wait: method((ta: any, i: any, v: any, t: any) => this.wait(sc, ta, i, v, t)),
      notify: method((ta: any, i: any, c: any) => this.notify(sc, ta, i, c)),
      ...(N.waitAsync ? { waitAsync: method((ta: any, i: any, v: any, t: any) => this.waitAsync(sc, ta, i, v, t)) } : {}),
    });
    this.perSite.set(site, w!);
    return w!;
  }

  /**
   * Web Locks (`navigator.locks.request`, Node 22+): a granted request is an acquisition of the
   * name's stand-in lock word (an Atomics acquire for races: the previous holder's release
   * happens before it), its callback settling a release. Exclusive requests are logged as a
   * mutex: a request made while another thread held the name is a failed try, then an async
   * wait until granted; the release wakes the next waiter. Shared requests only order threads.
   */
  patchWebLocks(): void {
    const manager = (globalThis as any).navigator?.locks;
    const proto = manager ? Object.getPrototypeOf(manager) : null;
    const native = proto?.request as Fn | undefined;
    if (typeof native !== 'function') return;
    const callback = (name: string, exclusive: boolean, cb: Fn): Fn => this.webLockCallback(name, exclusive, cb);
    const wrapped = function request(this: unknown, ...args: unknown[]): unknown {
      const [name, a, b] = args;
      const cb = typeof a === 'function' ? a : b;
      if (typeof cb !== 'function' || typeof name !== 'string') return Reflect.apply(native, this, args);
      const opts = typeof a === 'function' ? undefined : (a as { mode?: string; ifAvailable?: boolean } | undefined);
      const inner = callback(name, opts?.mode !== 'shared', cb as Fn);
      return opts === undefined ? Reflect.apply(native, this, [name, inner]) : Reflect.apply(native, this, [name, opts, inner]);
    };
    Object.defineProperty(wrapped, 'length', { value: native.length });
    Object.defineProperty(proto, 'request', { value: wrapped, writable: true, configurable: true, enumerable: false });
  }

  /** Web Locks requests come through a global, not a transformed site: a site from the caller's frame (negative ids, resolved from their stack record). */
  private readonly callerSites = new Map<string, number>();

  private callerSite(): number {
    let frames: string[];
    try {
      frames = this.ctx.captureStack(0);
    } catch {
      return 0;
    }
    const top = frames[0];
    if (!top) return 0;
    let id = this.callerSites.get(top);
    if (id === undefined) {
      id = -(this.callerSites.size + 1);
      this.callerSites.set(top, id);
      this.ctx.write({ k: 'stack', site: id, frames });
    }
    return id;
  }

  private webLockCallback(name: string, exclusive: boolean, cb: Fn): Fn {
    const b = this.registry.named(`locks:${name}`);
    const site = this.callerSite();
    const ctl = this.ctl;
    const pair = ctl ? ctl.webLock(b.hash) : -1;
    const t0 = this.now();
    const held = exclusive && ctl !== null && N.load(ctl.i32, pair) > 0;
    if (held) {
      N.add(ctl!.i32, pair + 1, 1);
      this.log?.timed(OP_CASFAIL, b.idx, 0, 1, 1, 0, site, t0);
    }
    return (lock: unknown): unknown => {
      const t1 = this.now();
      if (held) N.sub(ctl!.i32, pair + 1, 1);
      if (lock === null) return cb(lock); // ifAvailable and not available: nothing taken
      if (this.races) this.acquire(b, 0);
      if (exclusive) {
        if (held) this.log?.timed(OP_WAITASYNC, b.idx, 0, 1, WaitResult.Ok, t1 - t0, site, t0);
        if (ctl) N.add(ctl.i32, pair, 1);
        this.log?.timed(OP_CASOK, b.idx, 0, 1, 0, 0, site, t1);
      }
      this.progress++;
      const done = (): void => {
        if (this.races) {
          this.release(b, 0);
          this.clock.tick();
        }
        if (!exclusive) return;
        if (ctl) N.sub(ctl.i32, pair, 1);
        const t2 = this.now();
        this.log?.timed(OP_STORE, b.idx, 0, 0, 0, 0, site, t2);
        const waiting = ctl ? N.load(ctl.i32, pair + 1) : 0;
        this.log?.timed(OP_NOTIFY, b.idx, 0, 1, waiting > 0 ? 1 : 0, 0, site, t2);
      };
      let r: unknown;
      try {
        r = cb(lock);
      } catch (err) {
        done();
        throw err;
      }
      // The lock is held until the callback's promise settles; the manager waits on this one.
      return Promise.resolve(r).finally(done);
    };
  }

  /**
   * Patch the global Atomics methods for uninstrumented code (node_modules, `globalThis.Atomics`
   * aliases, eval'd code): their operations still order threads, show blocked time and locks
   * (site 0). The agent's own buffers pass straight through.
   */
  patchGlobal(): void {
    const sc = this.global;
    const A = Atomics as any;
    const registry = this.registry;
    // Node's own code uses the global Atomics too (a worker's cwd counter): a buffer first met
    // here, called from node: internals, is Node's and passes straight through from then on.
    const internal = (ta: any): boolean => {
      if (!isView(ta)) return false;
      const buf = (ta as any).buffer;
      if (internalBuffers.has(buf)) return true;
      if (!(buf instanceof SharedArrayBuffer) || registry.peek(buf) || !calledFromNode()) return false;
      internalBuffers.add(buf);
      return true;
    };
    const mine = (ta: any, i: any): boolean => (ta === sc.ta && i === sc.idx) || !internal(ta);
    const def = (name: string, f: Fn): void => {
      Object.defineProperty(f, 'name', { value: name });
      Object.defineProperty(f, 'length', { value: (A[name] as Fn).length });
      Object.defineProperty(A, name, { value: f, writable: true, configurable: true, enumerable: false });
    };
    for (const [name, code] of [['add', AtomOp.Add], ['sub', AtomOp.Sub], ['and', AtomOp.And], ['or', AtomOp.Or], ['xor', AtomOp.Xor], ['exchange', AtomOp.Exchange]] as const) {
      const native = N[name];
      const g = this.rmw(code, native);
      def(name, { [name]: (ta: any, i: any, v: any) => (mine(ta, i) ? g(sc, ta, i, v) : native(ta, i, v)) }[name]!);
    }
    // Arrow functions named by their keys: the patched methods keep Atomics' own names.
    const m = {
      load: (ta: any, i: any) => (mine(ta, i) ? this.load(sc, ta, i) : N.load(ta, i)),
      store: (ta: any, i: any, v: any) => (mine(ta, i) ? this.store(sc, ta, i, v) : N.store(ta, i, v)),
      compareExchange: (ta: any, i: any, e: any, r: any) => (mine(ta, i) ? this.cas(sc, ta, i, e, r) : N.compareExchange(ta, i, e, r)),
      wait: (ta: any, i: any, v: any, t: any) => (mine(ta, i) ? this.wait(sc, ta, i, v, t) : (N.wait as Fn)(ta, i, v, t)),
      notify: (ta: any, i: any, c: any) => (mine(ta, i) ? this.notify(sc, ta, i, c) : N.notify(ta, i, c)),
      waitAsync: (ta: any, i: any, v: any, t: any) => (mine(ta, i) ? this.waitAsync(sc, ta, i, v, t) : N.waitAsync!(ta, i, v, t)),
    };
    for (const [name, f] of Object.entries(m)) if (name !== 'waitAsync' || N.waitAsync) def(name, f);
  }
}

function calledFromNode(): boolean {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    if (line.includes(__filename)) continue;
    return /\(node:|at node:/.test(line);
  }
  return false;
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
