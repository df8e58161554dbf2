/**
 * The control SharedArrayBuffer of one process: created by the main thread, handed to every
 * worker through beforeSpawn → threadStart. It holds the dense thread-index counter, each
 * thread's published vector clock (read by the parent at join), the Atomics sync table
 * (release → acquire clocks per hashed location), and the per-thread state slots the
 * deadlock watchdog reads. Fixed size: ~1.4 MiB per process.
 */
import { lockWord, unlockWord } from './native';

/** Vector clock width: thread indices ≥ MAXT get no race detection (a warning says so). */
export const MAXT = 256;
/** Rows of the sync table (power of two); collisions only merge clocks, i.e. add edges. */
export const NSYNC = 1024;
/** Locks one thread can be recorded as holding at once (for the deadlock record). */
export const MAXHOLD = 8;

// Header words (Int32 indices).
export const H_NEXT = 0;
export const H_ABORT = 1;
export const H_CLAIM = 2;
export const H_FLUSHED = 3;
/** Threads sleeping on a sync row's generation word (notifies wake them only when this is > 0). */
export const H_GENWAIT = 4;
/** Threads inside a sliced Atomics.wait: notifies bump the generation words only when this is > 0. */
export const H_WAITERS = 5;
/** Spin lock and size of the free-slot stack (slots of joined threads, handed to new ones). */
export const H_FREE_LOCK = 6;
export const H_FREE_N = 7;
const HDR = 16;

// Thread slot layout (Int32 words per slot).
export const S_TID = 0;
export const S_STATE = 1;
export const S_WBUF_TID = 2;
export const S_WBUF_N = 3;
export const S_WOFF = 4;
export const S_WSITE_HI = 5;
export const S_WSITE_LO = 6;
export const S_IDLE = 7;
export const S_NHOLD = 8;
/** 1 while an idle thread's wait fields name a pending Atomics.waitAsync. */
export const S_ASYNC = 9;
/** Holds: MAXHOLD × [bufTid, bufN, off, siteHi, siteLo]. */
export const S_HOLDS = 10;
const SLOT = S_HOLDS + MAXHOLD * 5;

/** Thread states in S_STATE. */
export const ST_NONE = 0;
export const ST_RUNNING = 1;
export const ST_WAITING = 2;
export const ST_EXITED = 3;
/** In a timed Atomics.wait that will end by itself (not blocked, unless it is a retry without progress). */
export const ST_SLEEPING = 4;
/** Spinning: repeating failed Atomics attempts without changing anything (counts as blocked). */
export const ST_SPINNING = 5;

// Float64 per-thread times: [sinceUs (waiting since), idleSinceUs, idleSeenUs].
const F_PER = 3;
export const F_SINCE = 0;
export const F_IDLE_SINCE = 1;
export const F_IDLE_SEEN = 2;

const ROW = MAXT + 4; // sync row: [lock, generation, tag hash, tag offset, clocks…]
/** Word of a sync row holding the buffer hash of the one location using it (the offset word after it). */
export const ROW_TAG = 2;
/** First clock word of a sync row. */
export const ROW_CLOCKS = 4;
/** Tag offset word of a row two locations share: releases only merge there. */
export const ROW_MIXED = -1;

/** Web Locks names hashed to [exclusive holders, waiters] pairs (collisions only add contention). */
export const NWL = 256;
const OFF_WL = HDR;
const OFF_FREE = OFF_WL + 2 * NWL;
const OFF_SLOTS = OFF_FREE + MAXT;
const OFF_PUB = OFF_SLOTS + MAXT * SLOT;
const OFF_SYNC = OFF_PUB + MAXT * MAXT;
const INT_WORDS = OFF_SYNC + NSYNC * ROW;
const F64_START = Math.ceil((INT_WORDS * 4) / 8) * 8;
const BYTES = F64_START + MAXT * F_PER * 8;

/** Typed views over the control buffer (each thread has its own views of the same memory). */
export class Control {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab, 0, INT_WORDS);
    this.f64 = new Float64Array(sab, F64_START, MAXT * F_PER);
  }

  /** A fresh control buffer (main thread of a process). */
  static create(): Control {
    return new Control(new SharedArrayBuffer(BYTES));
  }

  /** Accepts only a buffer of the expected size (a foreign value becomes null). */
  static from(value: unknown): Control | null {
    return value instanceof SharedArrayBuffer && value.byteLength === BYTES ? new Control(value) : null;
  }

  /** Word index of a thread slot field. */
  slot(idx: number, field: number): number {
    return OFF_SLOTS + idx * SLOT + field;
  }

  /** Float64 index of a per-thread time field. */
  time(idx: number, field: number): number {
    return idx * F_PER + field;
  }

  /** Word index of entry k of thread idx's published vector clock. */
  pub(idx: number, k: number): number {
    return OFF_PUB + idx * MAXT + k;
  }

  /** Index of the [holders, waiters] pair of a Web Locks name's hash. */
  webLock(h: number): number {
    return OFF_WL + 2 * (h & (NWL - 1));
  }

  /** Word index of a sync row's lock word (a lockWord); generation at +1, tag at ROW_TAG, clocks from ROW_CLOCKS. */
  row(h: number): number {
    return OFF_SYNC + (h & (NSYNC - 1)) * ROW;
  }

  /**
   * A slot for a new thread: one a joined thread gave back, when the new thread's inherited
   * clock (`seen(slot)`) already covers that thread's last epoch (every event of the old owner
   * happened before the new one: sharing the slot loses no race), else the next unused one
   * (≥ MAXT when all are taken). The new owner's clock starts above the old one's last epoch.
   */
  takeSlot(seen: (slot: number) => number): number {
    const i = this.i32;
    lockWord(i, H_FREE_LOCK);
    try {
      const n = i[H_FREE_N]!;
      for (let k = n - 1; k >= 0; k--) {
        const slot = i[OFF_FREE + k]!;
        if (seen(slot) < i[this.pub(slot, slot)]!) continue;
        i[OFF_FREE + k] = i[OFF_FREE + n - 1]!;
        i[H_FREE_N] = n - 1;
        return slot;
      }
      return Atomics.add(i, H_NEXT, 1);
    } finally {
      unlockWord(i, H_FREE_LOCK);
    }
  }

  /** Give back the slot of a thread that exited and was joined (its clock is read first). */
  freeSlot(idx: number): void {
    const i = this.i32;
    lockWord(i, H_FREE_LOCK);
    try {
      const n = i[H_FREE_N]!;
      if (n < MAXT) {
        i[OFF_FREE + n] = idx;
        i[H_FREE_N] = n + 1;
      }
    } finally {
      unlockWord(i, H_FREE_LOCK);
    }
  }

  /** Number of thread indices handed out so far (bounded by MAXT). */
  used(): number {
    return Math.min(Atomics.load(this.i32, H_NEXT), MAXT);
  }
}
