/**
 * This thread's vector clock. Every change of the clock ends the current segment (the segment
 * sink emits it with the clock it ran under) and starts a new one; `publish` mirrors the clock
 * into the control buffer so the parent can join it when the thread exits.
 */
import { Control, MAXT } from './control';

/** Called around every clock change: end(vcBefore) then begin(). */
export interface SegmentSink {
  end(): void;
  begin(): void;
}

/** The vector clock of one thread (slot `self`). */
export class VectorClock {
  readonly vc = new Int32Array(MAXT);
  self = -1;

  constructor(
    private readonly ctl: Control | null,
    private readonly sink: SegmentSink,
  ) {}

  /** Whether this thread has a valid slot (race detection possible). */
  get valid(): boolean {
    return this.self >= 0 && this.self < MAXT;
  }

  /** Take slot `self` with own epoch 1, after joining the parent's clock (sparse). */
  start(self: number, parent: unknown): void {
    this.self = self;
    if (!this.valid) return;
    this.mergeSparse(parent);
    // A reused slot: start above the epochs its earlier thread published.
    const before = this.ctl ? this.ctl.i32[this.ctl.pub(self, self)]! : 0;
    this.vc[self] = Math.max(this.vc[self]!, before + 1, 1);
    this.publish();
  }

  /** Sparse non-zero entries [idx, clock, …] (the segment/message format). */
  sparse(): number[] {
    const out: number[] = [];
    const n = this.width();
    for (let k = 0; k < n; k++) if (this.vc[k] !== 0) out.push(k, this.vc[k]!);
    return out;
  }

  /** Release: new epoch for this thread (after a send, spawn, Atomics release). */
  tick(): void {
    if (!this.valid) return;
    this.sink.end();
    this.vc[this.self]!++;
    if (this.ctl) this.ctl.i32[this.ctl.pub(this.self, this.self)] = this.vc[this.self]!;
    this.sink.begin();
  }

  /** Acquire from a sparse clock (message meta): join; new segment when anything grew. */
  joinSparse(other: unknown): void {
    if (!this.valid || !Array.isArray(other)) return;
    let grows = false;
    for (let k = 0; k + 1 < other.length; k += 2) {
      const i = other[k];
      const c = other[k + 1];
      if (typeof i === 'number' && i >= 0 && i < MAXT && typeof c === 'number' && c > this.vc[i]!) grows = true;
    }
    if (!grows) return;
    this.sink.end();
    this.mergeSparse(other);
    this.publish();
    this.sink.begin();
  }

  /** Acquire from a dense row of the control buffer at word `at` (width used slots). */
  joinRow(words: Int32Array, at: number): void {
    if (!this.valid) return;
    const n = this.width();
    let k = 0;
    for (; k < n; k++) if (words[at + k]! > this.vc[k]!) break;
    if (k === n) return;
    this.sink.end();
    for (; k < n; k++) {
      const c = words[at + k]!;
      if (c > this.vc[k]!) this.vc[k] = c;
    }
    this.publish();
    this.sink.begin();
  }

  /** Release-store into a dense row: row = vc (a store starts a new release history). */
  storeInto(words: Int32Array, at: number): void {
    if (!this.valid) return;
    const n = this.width();
    for (let k = 0; k < n; k++) words[at + k] = this.vc[k]!;
  }

  /** Release into a dense row: row = row ⊔ vc. */
  releaseInto(words: Int32Array, at: number): void {
    if (!this.valid) return;
    const n = this.width();
    for (let k = 0; k < n; k++) {
      const c = this.vc[k]!;
      if (c > words[at + k]!) words[at + k] = c;
    }
  }

  /** Slots in use in this process (clock entries beyond are zero). */
  width(): number {
    return this.ctl ? Math.max(this.ctl.used(), this.self + 1) : this.self + 1;
  }

  private mergeSparse(other: unknown): void {
    if (!Array.isArray(other)) return;
    for (let k = 0; k + 1 < other.length; k += 2) {
      const i = other[k];
      const c = other[k + 1];
      if (typeof i === 'number' && i >= 0 && i < MAXT && typeof c === 'number' && c > this.vc[i]!) this.vc[i] = c | 0;
    }
  }

  /** Mirror the whole clock into this thread's published row (read by the parent at join). */
  publish(): void {
    if (!this.ctl || !this.valid) return;
    const n = this.width();
    const base = this.ctl.pub(this.self, 0);
    for (let k = 0; k < n; k++) this.ctl.i32[base + k] = this.vc[k]!;
  }
}
