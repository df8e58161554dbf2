/**
 * The vector clocks of every segment of one process, addressable by a global segment index,
 * so happens-before between two runs is two array reads.
 */
import type { LoadedThread } from './runData';

/** Dense (or, past a size cap, sparse) table of segment vector clocks of one process. */
export class ProcessClocks {
  private readonly base = new Map<LoadedThread, number>();
  private readonly slots = new Map<LoadedThread, number>();
  private readonly width: number;
  private readonly dense: Uint32Array | null;
  private readonly sparse: number[][] = [];

  /** denseCap: most clock entries laid out densely (32 M = 128 MiB); beyond, lookups scan the flat vc. */
  constructor(threads: LoadedThread[], denseCap = 32 * 1024 * 1024) {
    let total = 0;
    let maxSlot = 0;
    for (const t of threads) {
      this.base.set(t, total);
      total += t.segs.length;
      const slot = t.tidx ?? (t.segs.length ? t.segs.self(0) : 0);
      this.slots.set(t, slot);
      maxSlot = Math.max(maxSlot, slot);
      for (let s = 0; s < t.segs.length; s++) t.segs.forEachClock(s, (k) => (maxSlot = Math.max(maxSlot, k)));
    }
    this.width = maxSlot + 1;
    this.dense = total * this.width <= denseCap ? new Uint32Array(total * this.width) : null;
    for (const t of threads) {
      const b = this.base.get(t)!;
      for (let s = 0; s < t.segs.length; s++) {
        const dense = this.dense;
        if (dense) {
          const row = (b + s) * this.width;
          t.segs.forEachClock(s, (k, v) => (dense[row + k] = v));
        } else {
          this.sparse[b + s] = t.segs.clock(s);
        }
      }
    }
  }

  /** Vector-clock slot of a thread. */
  slotOf(t: LoadedThread): number {
    return this.slots.get(t) ?? 0;
  }

  /** Global index of segment s of thread t. */
  segmentIndex(t: LoadedThread, s: number): number {
    return this.base.get(t)! + s;
  }

  /** Entry `slot` of the vector clock of global segment g (0 when absent). */
  clock(g: number, slot: number): number {
    if (this.dense) return slot < this.width ? this.dense[g * this.width + slot]! : 0;
    const vc = this.sparse[g]!;
    for (let k = 0; k < vc.length; k += 2) if (vc[k] === slot) return vc[k + 1]!;
    return 0;
  }
}
