/**
 * The deadlock watchdog. Every thread keeps its state in its control-buffer slot: running,
 * waiting in Atomics.wait on (buffer, offset) since T, or idle in its event loop (measured with
 * eventLoopUtilization by an unref'd timer). Blocked threads look at the table between wait
 * slices, idle ones at each timer tick; when every live thread has been blocked for the timeout
 * and at least one sits in Atomics.wait, the first to notice writes the `deadlock` record and
 * raises the abort flag; every thread flushes, and the main thread exits with code 124.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { DeadlockRecord } from '../../protocol/events';
import type { AgentContext } from '../extension';
import {
  Control, F_IDLE_SEEN, F_IDLE_SINCE, F_SINCE, H_ABORT, H_CLAIM, H_FLUSHED, MAXHOLD, S_ASYNC, S_HOLDS, S_IDLE, S_NHOLD, S_STATE, S_TID,
  S_WBUF_N, S_WBUF_TID, S_WOFF, S_WSITE_HI, S_WSITE_LO, ST_EXITED, ST_RUNNING, ST_SLEEPING, ST_SPINNING, ST_WAITING,
} from './control';
import { nativeAtomics as N } from './native';

/** Exit code of a process the watchdog ended (the runner maps it to outcome 'deadlock'). */
export const DEADLOCK_EXIT_CODE = 124;
/** Length of one Atomics.wait slice (ms). */
export const SLICE_MS = 100;
const TICK_MS = 100;
const SITE_HI = 2 ** 31;

const CLK_MS = 10; // USER_HZ = 100 on Linux

/** This thread's user+system CPU time in ms from /proc/thread-self/stat, or null where unavailable. */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * CLK_MS;
  } catch {
    return null;
  }
}

/**
 * Resources that do not wake an idle thread by themselves: message ports (only another thread
 * can post), and the stdio pipes and terminals every program has open.
 */
const PASSIVE = new Set(['MessagePort', 'PipeWrap', 'TTYWrap']);

/** Whether the event loop has work of its own (timers, I/O, child processes) that will wake it. */
function hasOwnWork(): boolean {
  const info = (process as any).getActiveResourcesInfo as (() => string[]) | undefined;
  if (!info) return false;
  try {
    return info().some((r) => !PASSIVE.has(r));
  } catch {
    return false;
  }
}

/** What the Atomics tracker tells the watchdog when asked (lazily: holds change far more often than anyone reads them). */
export interface WatchSource {
  /** Mirror the held locks into this thread's slot. */
  publishHolds(): void;
  /** The oldest pending Atomics.waitAsync, or null. */
  pendingAsync(): { bufTid: number; bufN: number; off: number; site: number; sinceUs: number } | null;
}

/** The per-thread side of the watchdog. */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private elu = performance.eventLoopUtilization();
  private idle = false;
  private lastTickUs = 0;
  private lastCpuMs: number | null = null;
  private aborted = false;
  private readonly timeoutUs: number;
  private source: WatchSource | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly ctl: Control,
    private readonly self: number,
    /** Flush everything this thread has (shared part + base). */
    private readonly flushAll: () => void,
  ) {
    this.timeoutUs = ctx.options.deadlockTimeoutMs * 1000;
    const i = ctl.i32;
    i[ctl.slot(self, S_TID)] = ctx.tid;
    Atomics.store(i, ctl.slot(self, S_STATE), ST_RUNNING);
  }

  /** Whether the watchdog is on (deadlockTimeoutMs > 0). */
  get active(): boolean {
    return this.timeoutUs > 0;
  }

  /** Connect the tracker that knows this thread's holds and pending async waits. */
  attach(source: WatchSource): void {
    this.source = source;
  }

  /** Start the idle sampler (unref'd: never keeps the program alive). */
  startTimer(): void {
    if (!this.active || this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = this.ctx.now();
    const busy = this.busyFraction(now);
    const f = this.ctl.f64;
    const wasIdle = this.idle;
    // Idle with a timer, I/O or a child process pending is waiting for the world, not for a thread.
    this.idle = busy < 0.3 && !hasOwnWork();
    if (this.idle && !wasIdle) f[this.ctl.time(this.self, F_IDLE_SINCE)] = now - TICK_MS * 1000;
    f[this.ctl.time(this.self, F_IDLE_SEEN)] = now;
    const i = this.ctl.i32;
    const pending = this.idle ? (this.source?.pendingAsync() ?? null) : null;
    if (pending) this.setWaitFields(pending.bufTid, pending.bufN, pending.off, pending.site);
    Atomics.store(i, this.ctl.slot(this.self, S_ASYNC), pending ? 1 : 0);
    if (this.idle) this.source?.publishHolds();
    Atomics.store(i, this.ctl.slot(this.self, S_IDLE), this.idle ? 1 : 0);
    this.check(now);
  }

  /**
   * Share of the last tick this thread spent on the CPU. Linux: the thread's own CPU time from
   * /proc (eventLoopUtilization reads near 1 while the CPU profiler's signals interrupt the
   * poll); elsewhere eventLoopUtilization.
   */
  private busyFraction(now: number): number {
    const cpu = threadCpuMs();
    const wall = (now - this.lastTickUs) / 1000;
    this.lastTickUs = now;
    if (cpu !== null && this.lastCpuMs !== null && wall > 0) {
      const d = cpu - this.lastCpuMs;
      this.lastCpuMs = cpu;
      return d / wall;
    }
    this.lastCpuMs = cpu;
    const e = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    return cpu === null ? e.utilization : 1;
  }

  private setWaitFields(bufTid: number, bufN: number, off: number, site: number): void {
    const { ctl } = this;
    const i = ctl.i32;
    i[ctl.slot(this.self, S_WBUF_TID)] = bufTid;
    i[ctl.slot(this.self, S_WBUF_N)] = bufN;
    i[ctl.slot(this.self, S_WOFF)] = off;
    i[ctl.slot(this.self, S_WSITE_HI)] = Math.floor(site / SITE_HI);
    i[ctl.slot(this.self, S_WSITE_LO)] = site % SITE_HI;
  }

  /**
   * Mark this thread in Atomics.wait on (buffer, offset) since sinceUs. A wait that will end by
   * itself (a timeout, not a retry without progress) is not blocked: `blocked` false.
   */
  enterWait(bufTid: number, bufN: number, off: number, site: number, sinceUs: number, blocked: boolean): void {
    this.setWaitFields(bufTid, bufN, off, site);
    this.source?.publishHolds();
    this.ctl.f64[this.ctl.time(this.self, F_SINCE)] = sinceUs;
    Atomics.store(this.ctl.i32, this.ctl.slot(this.self, S_STATE), blocked ? ST_WAITING : ST_SLEEPING);
  }

  /** Mark this thread spinning on (buffer, offset) since sinceUs (failed attempts that change nothing). */
  enterSpin(bufTid: number, bufN: number, off: number, site: number, sinceUs: number): void {
    this.setWaitFields(bufTid, bufN, off, site);
    this.source?.publishHolds();
    this.ctl.f64[this.ctl.time(this.self, F_SINCE)] = sinceUs;
    Atomics.store(this.ctl.i32, this.ctl.slot(this.self, S_STATE), ST_SPINNING);
  }

  /** Back to running after a wait or a spin. */
  leaveWait(): void {
    Atomics.store(this.ctl.i32, this.ctl.slot(this.self, S_STATE), ST_RUNNING);
  }

  /** Mirror the locks this thread holds (for the deadlock record): n entries of parallel arrays. */
  setHolds(n: number, bufTid: ArrayLike<number>, bufN: ArrayLike<number>, off: ArrayLike<number>, site: ArrayLike<number>): void {
    const { ctl } = this;
    const i = ctl.i32;
    const m = Math.min(n, MAXHOLD);
    for (let k = 0; k < m; k++) {
      const at = ctl.slot(this.self, S_HOLDS + k * 5);
      i[at] = bufTid[k]!;
      i[at + 1] = bufN[k]!;
      i[at + 2] = off[k]!;
      i[at + 3] = Math.floor(site[k]! / SITE_HI);
      i[at + 4] = site[k]! % SITE_HI;
    }
    Atomics.store(i, ctl.slot(this.self, S_NHOLD), m);
  }

  /** This thread is gone (final flush, or its parent saw it exit). */
  static markExited(ctl: Control, idx: number): void {
    Atomics.store(ctl.i32, ctl.slot(idx, S_STATE), ST_EXITED);
  }

  /** Between wait slices: handle an abort, or detect a deadlock. Returns true once aborted. */
  between(): boolean {
    const now = this.ctx.now();
    this.check(now);
    return this.aborted;
  }

  private check(now: number): void {
    const { ctl } = this;
    if (Atomics.load(ctl.i32, H_ABORT) !== 0) {
      this.onAbort();
      return;
    }
    if (!this.active) return;
    const rec = this.detect(now);
    if (!rec) return;
    if (Atomics.compareExchange(ctl.i32, H_CLAIM, 0, 1) !== 0) return;
    this.ctx.write(rec);
    Atomics.store(ctl.i32, H_ABORT, 1);
    this.onAbort();
  }

  /** The wait-for picture when every live thread is blocked ≥ timeout and one waits; else null. */
  private detect(now: number): DeadlockRecord | null {
    const { ctl } = this;
    const i = ctl.i32;
    const f = ctl.f64;
    const n = ctl.used();
    let someWait = false;
    const threads: DeadlockRecord['threads'] = [];
    for (let k = 0; k < n; k++) {
      const state = Atomics.load(i, ctl.slot(k, S_STATE));
      if (state === ST_EXITED || state === 0) continue;
      if (state === ST_SLEEPING) return null; // it will wake by itself
      let waiting: DeadlockRecord['threads'][number]['waiting'] = null;
      let idle = false;
      const waitFields = (sinceUs: number): NonNullable<typeof waiting> => ({
        buf: `${this.ctx.pid}.${i[ctl.slot(k, S_WBUF_TID)]}.${i[ctl.slot(k, S_WBUF_N)]}`,
        off: i[ctl.slot(k, S_WOFF)]!,
        site: i[ctl.slot(k, S_WSITE_HI)]! * SITE_HI + i[ctl.slot(k, S_WSITE_LO)]!,
        sinceUs,
      });
      if (state === ST_WAITING || state === ST_SPINNING) {
        const since = f[ctl.time(k, F_SINCE)]!;
        if (now - since < this.timeoutUs) return null;
        someWait = true;
        waiting = waitFields(since);
      } else {
        // Idle counts only while its sampler keeps ticking (a busy loop stops the ticks).
        const seen = f[ctl.time(k, F_IDLE_SEEN)]!;
        const since = f[ctl.time(k, F_IDLE_SINCE)]!;
        idle = Atomics.load(i, ctl.slot(k, S_IDLE)) === 1 && now - seen < 3 * TICK_MS * 1000;
        if (!idle || now - since < this.timeoutUs) return null;
        if (Atomics.load(i, ctl.slot(k, S_ASYNC)) === 1) {
          waiting = waitFields(since); // awaiting Atomics.waitAsync in its event loop
          someWait = true;
        }
      }
      const holds: DeadlockRecord['threads'][number]['holds'] = [];
      const nh = Math.min(Atomics.load(i, ctl.slot(k, S_NHOLD)), MAXHOLD);
      for (let h = 0; h < nh; h++) {
        const at = ctl.slot(k, S_HOLDS + h * 5);
        holds.push({ buf: `${this.ctx.pid}.${i[at]}.${i[at + 1]}`, off: i[at + 2]!, site: i[at + 3]! * SITE_HI + i[at + 4]! });
      }
      threads.push({ tid: i[ctl.slot(k, S_TID)]!, waiting, holds, idle });
    }
    return someWait ? { k: 'deadlock', us: now, threads } : null;
  }

  /** Abort seen: flush once; the main thread waits briefly for the others, then ends the process. */
  private onAbort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const { ctl } = this;
    try {
      this.flushAll();
    } catch {
      /* keep going: the exit matters more */
    }
    Atomics.add(ctl.i32, H_FLUSHED, 1);
    if (!this.ctx.isMain) return;
    const deadline = Date.now() + 1000;
    const live = (): number => {
      let c = 0;
      for (let k = 0; k < ctl.used(); k++) {
        const s = Atomics.load(ctl.i32, ctl.slot(k, S_STATE));
        if (s !== ST_EXITED && s !== 0) c++;
      }
      return c;
    };
    while (Atomics.load(ctl.i32, H_FLUSHED) < live() && Date.now() < deadline) {
      N.wait(ctl.i32, H_ABORT + 14, 0, 20); // a private word nobody notifies: a 20 ms sleep
    }
    process.exitCode = DEADLOCK_EXIT_CODE;
    process.exit(DEADLOCK_EXIT_CODE);
  }
}
