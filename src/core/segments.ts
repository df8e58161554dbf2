/**
 * A thread's race-detection segments, columnar: one row per segment (its slot and where its
 * vector clock and access runs start) and one per access run, in growing typed arrays.
 *
 * A lock-heavy program writes a segment per synchronisation, millions of them; kept as the
 * parsed records (an object and six arrays each) they made the analysis spend half its time
 * in the garbage collector. Here a segment costs 16 bytes, an access run 29 and a clock entry 8.
 */
import type { SegmentBatchRecord, SegmentRecord } from '../protocol/events';
import { grown } from './columns';

export class SegmentStore {
  /** Number of segments. */
  length = 0;
  /** Number of access runs over all segments. */
  accesses = 0;
  private clocks = 0;
  /** Per segment: the thread's clock slot, and the first clock entry and access run (ends: the next segment's starts). */
  private selfs = new Int32Array(16);
  private vcFrom = new Uint32Array(17);
  private accFrom = new Uint32Array(17);
  /** Clock entries (slot, value) of all segments. */
  private vcSlot = new Uint32Array(64);
  private vcVal = new Uint32Array(64);
  /** Access runs of all segments. */
  buf = new Uint32Array(64);
  off = new Float64Array(64);
  len = new Float64Array(64);
  kind = new Uint8Array(64);
  site = new Float64Array(64);

  /** A store holding the given records (tests). */
  static of(records: SegmentRecord[]): SegmentStore {
    const s = new SegmentStore();
    for (const r of records) s.push(r);
    return s;
  }

  push(r: SegmentRecord): void {
    this.append(r.self, r.vc, 0, r.vc.length >> 1, r, 0, r.buf.length);
  }

  /** Every segment of a batch record, in order. */
  pushBatch(b: SegmentBatchRecord): void {
    let v = 0;
    let a = 0;
    for (let j = 0; j < b.n.length; j++) {
      const nv = b.vcN[j]!;
      const na = b.n[j]!;
      this.append(b.self, b.vc, v, nv, b, a, na);
      v += 2 * nv;
      a += na;
    }
  }

  /** One segment: nv clock pairs from vc[v…], na runs from the columns of r at a…. */
  private append(self: number, vc: number[], v: number, nv: number, r: Pick<SegmentRecord, 'buf' | 'off' | 'len' | 'kind' | 'site'>, a0: number, na: number): void {
    const s = this.length;
    this.selfs = grown(this.selfs, s + 1);
    this.vcFrom = grown(this.vcFrom, s + 2);
    this.accFrom = grown(this.accFrom, s + 2);
    this.selfs[s] = self;
    const c = this.clocks;
    this.vcSlot = grown(this.vcSlot, c + nv);
    this.vcVal = grown(this.vcVal, c + nv);
    for (let k = 0; k < nv; k++) {
      this.vcSlot[c + k] = vc[v + 2 * k]!;
      this.vcVal[c + k] = vc[v + 2 * k + 1]!;
    }
    const a = this.accesses;
    this.buf = grown(this.buf, a + na);
    this.off = grown(this.off, a + na);
    this.len = grown(this.len, a + na);
    this.kind = grown(this.kind, a + na);
    this.site = grown(this.site, a + na);
    for (let k = 0; k < na; k++) {
      this.buf[a + k] = r.buf[a0 + k]!;
      this.off[a + k] = r.off[a0 + k]!;
      this.len[a + k] = r.len[a0 + k]!;
      this.kind[a + k] = r.kind[a0 + k]!;
      this.site[a + k] = r.site[a0 + k]!;
    }
    this.clocks = c + nv;
    this.accesses = a + na;
    this.length = s + 1;
    this.vcFrom[s + 1] = this.clocks;
    this.accFrom[s + 1] = this.accesses;
  }

  /** The clock slot segment s was written with. */
  self(s: number): number {
    return this.selfs[s]!;
  }

  /** Access runs of segment s: indices [accStart(s), accStart(s + 1)) into buf/off/len/kind/site. */
  accStart(s: number): number {
    return this.accFrom[s]!;
  }

  /** Calls fn(slot, value) for each entry of segment s's vector clock. */
  forEachClock(s: number, fn: (slot: number, value: number) => void): void {
    for (let k = this.vcFrom[s]!; k < this.vcFrom[s + 1]!; k++) fn(this.vcSlot[k]!, this.vcVal[k]!);
  }

  /** Segment s's vector clock as flat (slot, value) pairs. */
  clock(s: number): number[] {
    const out: number[] = [];
    this.forEachClock(s, (slot, v) => out.push(slot, v));
    return out;
  }
}
