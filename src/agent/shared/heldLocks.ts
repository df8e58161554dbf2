/**
 * The locks one thread holds, for the watchdog's deadlock record. A lock is any word this
 * thread changed with a successful compareExchange or exchange; the thread releases it when
 * one of its writes puts back the value it found (0 or -1 or 1: whatever "free" is for that
 * lock), or, for add/sub, moves the word back towards it (a semaphore or a futex state).
 * Kept locally and copied into the control buffer only when another thread may read it.
 */
import { AtomOp } from '../../protocol/events';
import type { BufferState } from './buffers';
import type { Watchdog } from './watchdog';

const MAX = 64;
const OP_STORE = AtomOp.Store as number;
const OP_EXCHANGE = AtomOp.Exchange as number;
const OP_CASOK = AtomOp.CasOk as number;
const OP_ADD = AtomOp.Add as number;
const OP_SUB = AtomOp.Sub as number;
const OP_AND = AtomOp.And as number;
const OP_OR = AtomOp.Or as number;

/** The value a write leaves: val for store/exchange/CAS, old ∘ val for read-modify-writes. */
function written(op: number, val: number, old: number): number {
  switch (op) {
    case OP_ADD:
      return old + val;
    case OP_SUB:
      return old - val;
    case OP_AND:
      return old & val;
    case OP_OR:
      return old | val;
    case OP_STORE:
    case OP_EXCHANGE:
    case OP_CASOK:
      return val;
    default:
      return old ^ val; // xor
  }
}

/** Held locks of one thread as parallel arrays (no garbage per acquire). */
export class HeldLocks {
  private n = 0;
  private readonly bufs: (BufferState | null)[] = [];
  private readonly off: number[] = [];
  private readonly free: number[] = [];
  private readonly taken: number[] = [];
  private readonly site: number[] = [];
  /** What failed compareExchanges expected at a word: its "free" value, for exchanges there. */
  private readonly freeAt = new Map<number, number>();

  constructor(
    private readonly watchdog: Watchdog,
    /** A lock was taken at `site` (the first time per site, its stack tells a deadlock report who called). */
    private readonly onTaken: (site: number) => void = () => {},
  ) {}

  private find(b: BufferState, off: number): number {
    for (let k = this.n - 1; k >= 0; k--) if (this.bufs[k] === b && this.off[k] === off) return k;
    return -1;
  }

  /** A failed compareExchange: `expected` is what this thread takes for free there. */
  onCasFail(b: BufferState, off: number, expected: number): void {
    this.freeAt.set(b.idx * 4294967296 + off, expected);
  }

  /** A write by this thread: old is the value it replaced (NaN for a store, which does not say). */
  onWrite(op: number, b: BufferState, off: number, val: number, old: number, site: number): void {
    const now = written(op, val, old);
    const k = this.n === 0 ? -1 : this.find(b, off);
    if (k >= 0) {
      const free = this.free[k]!;
      const back = now === free || (op !== OP_STORE && op !== OP_EXCHANGE && op !== OP_CASOK && now !== old && Math.sign(now - old) === Math.sign(free - this.taken[k]!));
      if (back) this.remove(k);
      else if (op === OP_CASOK && now !== old) {
        this.free[k] = old; // taken again without a release: a counter, or a lock word that moves on
        this.taken[k] = now;
        this.site[k] = site;
      }
      return;
    }
    const acquired = op === OP_CASOK || (op === OP_EXCHANGE && old === (this.freeAt.get(b.idx * 4294967296 + off) ?? 0));
    if (acquired && now !== old && this.n < MAX) {
      const i = this.n++;
      this.onTaken(site);
      this.bufs[i] = b;
      this.off[i] = off;
      this.free[i] = old;
      this.taken[i] = now;
      this.site[i] = site;
    }
  }

  private remove(k: number): void {
    const last = --this.n;
    for (let i = k; i < last; i++) {
      this.bufs[i] = this.bufs[i + 1]!;
      this.off[i] = this.off[i + 1]!;
      this.free[i] = this.free[i + 1]!;
      this.taken[i] = this.taken[i + 1]!;
      this.site[i] = this.site[i + 1]!;
    }
    this.bufs[last] = null;
  }

  /** Copy the held locks into this thread's control slot. */
  publish(): void {
    const tid: number[] = [];
    const nn: number[] = [];
    for (let k = 0; k < this.n; k++) {
      tid.push(this.bufs[k]!.idTid);
      nn.push(this.bufs[k]!.idN);
    }
    this.watchdog.setHolds(this.n, tid, nn, this.off, this.site);
  }
}
