/**
 * The Atomics log of one thread, compressed as it is written so an uncontended lock costs
 * almost nothing: an operation equal to the one `p` places earlier in this thread's sequence
 * (same op, location, site, operand and result) is only counted, without a time stamp; a run
 * of such operations becomes one `Repeat` entry (val = p, res = how many). Everything else is
 * logged with its time. The core rebuilds the exact sequence (each covered op is a copy of the
 * op p before it), so lock roles, nesting and counts stay exact; only the times inside a run
 * are estimated, from the timed cycle before it and from a timed cycle every SAMPLE covered
 * operations. A period is found by looking back up to RING − 1 operations.
 */
import { AtomOp } from '../../protocol/events';

const RING = 8; // a power of two: positions wrap with & MASK
const MASK = RING - 1;
const F = 6; // ring fields: op, buf, off, site, val, res
/** Covered operations between two forced timed cycles. */
const SAMPLE = 512;
/** Entries buffered before a record is written. */
const FLUSH_AT = 50000;
const OP_REPEAT = AtomOp.Repeat as number;
const OP_CASFAIL = AtomOp.CasFail as number;
const OP_LOAD = AtomOp.Load as number;
const OP_EXCHANGE = AtomOp.Exchange as number;

/** The growable columns of the log. */
function columns(n: number) {
  const f = () => new Float64Array(n);
  return { us: f(), op: f(), buf: f(), off: f(), val: f(), res: f(), dur: f(), site: f() };
}
type Columns = ReturnType<typeof columns>;

/** What the log writes: one `atom` record's columns. */
export type AtomColumns = { [K in keyof Columns]: number[] };

/** One thread's compressed Atomics log. */
export class AtomicsLog {
  private cap = 256;
  private len = 0;
  private cols: Columns = columns(256);
  private readonly ring = new Float64Array(RING * F);
  /** Next ring slot; the newest op is at h − 1. */
  private h = 0;
  private filled = 0;
  /** Current period (0: none, the next op is logged). */
  private p = 0;
  /**
   * Covered ops ever (one counter bumped per covered op); the current run's count, the count
   * since the last materialize and the next forced timed cycle are differences from it.
   */
  private total = 0;
  private runStart = 0;
  private matStart = 0;
  private nextSample = SAMPLE;
  /** The period of the current run. */
  private runP = 0;
  /** Ops still to log with times (a forced timed cycle). */
  private force = 0;
  /** End time of the last logged op (start of a run that follows it). */
  private lastUs = 0;
  /**
   * Covered ops not yet written into the ring, and the next one's place in the cycle: while a
   * run goes on the ring stays still (its last p entries are the cycle), so covering an op is
   * compares only; materialize() writes the ring up to date when something reads it.
   */
  private ph = 0;
  /** Ring index (× F) of the op the next one must equal, and of the cycle's first op. */
  private j = 0;
  private j0 = 0;

  /** Covered ops in the pending run. */
  private get c(): number {
    return this.total - this.runStart;
  }

  /** Covered ops not yet written into the ring. */
  private get cm(): number {
    return this.total - this.matStart;
  }

  /** The next op must equal the one p places back; the cycle starts over. */
  private aim(): void {
    this.ph = 0;
    this.j0 = this.j = ((this.h - this.p) & MASK) * F;
  }
  private readonly tmpl = new Float64Array(RING * F);

  constructor(
    private readonly now: () => number,
    private readonly write: (cols: AtomColumns) => void,
    /** Called every SAMPLE covered ops with the run's period and length so far (spin detection). */
    private readonly onRun: ((p: number, c: number, sinceUs: number) => void) | null = null,
    /** Called when a run closes, with its last min(c, p) ops (op, buf, off, site, val, res each), oldest first. */
    private readonly onClose: ((ops: number[][]) => void) | null = null,
    /** Buffered entries that trigger a write (tests use small ones). */
    private readonly flushAt = FLUSH_AT,
  ) {}

  /** An operation a run may cover (all but waits and notifies that woke someone); true when covered. */
  op(op: number, buf: number, off: number, val: number, res: number, site: number): boolean {
    const p = this.p;
    if (p !== 0) {
      const r = this.ring;
      const j = this.j;
      if (r[j + 3] === site && r[j + 5] === res && r[j + 4] === val && r[j + 2] === off && r[j] === op && r[j + 1] === buf) {
        if (++this.ph === p) {
          this.ph = 0;
          this.j = this.j0;
        } else this.j = j + F === RING * F ? 0 : j + F;
        if (++this.total === this.nextSample) this.sample();
        return true;
      }
    }
    this.logged(op, buf, off, val, res, 0, site, this.now(), true);
    return false;
  }

  /** Write the covered ops since the last materialize into the ring (the last RING of them). */
  private materialize(): void {
    const n = this.cm;
    if (n === 0) return;
    const p = this.runP;
    const r = this.ring;
    const t = this.tmpl; // the cycle, copied out: writing the ring overwrites it
    for (let x = 0; x < p; x++) {
      const from = ((this.h - p + x) & MASK) * F;
      for (let f = 0; f < F; f++) t[x * F + f] = r[from + f]!;
    }
    const m = Math.min(n, RING);
    for (let k = n - m; k < n; k++) {
      const src = (k % p) * F;
      const dst = this.h * F;
      for (let f = 0; f < F; f++) r[dst + f] = t[src + f]!;
      this.h = (this.h + 1) & MASK;
    }
    this.filled = Math.min(RING, this.filled + m);
    this.matStart = this.total;
    this.aim();
  }

  /** An operation logged with its own time and duration (waits, notifies that woke a waiter). */
  timed(op: number, buf: number, off: number, val: number, res: number, dur: number, site: number, us: number): void {
    this.logged(op, buf, off, val, res, dur, site, us, false);
  }

  private sample(): void {
    this.materialize();
    this.nextSample = this.total + SAMPLE;
    this.onRun?.(this.runP, this.c, this.lastUs);
    this.force = this.p + 1; // time one whole cycle (and the op closing it)
    this.p = 0;
  }

  private logged(op: number, buf: number, off: number, val: number, res: number, dur: number, site: number, us: number, coverable: boolean): void {
    this.materialize();
    if (this.c > 0) this.closeRun(us);
    this.append(us, op, buf, off, val, res, dur, site);
    this.lastUs = us + dur;
    const r = this.ring;
    const k = this.h * F;
    r[k] = op;
    r[k + 1] = buf;
    r[k + 2] = off;
    r[k + 3] = site;
    r[k + 4] = val;
    r[k + 5] = res;
    this.h = (this.h + 1) & MASK;
    if (this.filled < RING) this.filled++;
    if (this.force > 0 && --this.force > 0) return;
    this.p = coverable ? this.period() : 0;
    // A run that follows starts here (closeRun above ended any before): it has this period.
    this.runP = this.p;
    this.aim();
  }

  /** Smallest q such that the newest op equals the op q before it (0 when none does). */
  private period(): number {
    const r = this.ring;
    const n = ((this.h - 1 + RING) & MASK) * F;
    for (let q = 1; q < this.filled; q++) {
      const j = ((this.h - 1 - q + 2 * RING) & MASK) * F;
      if (r[j] === r[n] && r[j + 1] === r[n + 1] && r[j + 2] === r[n + 2] && r[j + 3] === r[n + 3] && r[j + 4] === r[n + 4] && r[j + 5] === r[n + 5]) {
        return q;
      }
    }
    return 0;
  }

  /** Write the pending run: `Repeat` with val = period, res = covered ops, from the last logged op to endUs. */
  private closeRun(endUs: number): void {
    // Closed before the append: an append that fills the buffer flushes, and a flush closes a pending run.
    const c = this.c;
    this.runStart = this.total;
    this.onClose?.(this.cycle(Math.min(c, this.runP)));
    const start = this.lastUs;
    this.lastUs = endUs;
    this.append(start, OP_REPEAT, 0, 0, this.runP, c, Math.max(0, endUs - start), 0);
  }

  private append(us: number, op: number, buf: number, off: number, val: number, res: number, dur: number, site: number): void {
    if (this.len === this.cap) {
      this.cap *= 2;
      const g = columns(this.cap);
      const c = this.cols;
      for (const key of Object.keys(g) as (keyof Columns)[]) g[key].set(c[key]);
      this.cols = g;
    }
    const d = this.cols;
    const i = this.len++;
    d.us[i] = us;
    d.op[i] = op;
    d.buf[i] = buf;
    d.off[i] = off;
    d.val[i] = val;
    d.res[i] = res;
    d.dur[i] = dur;
    d.site[i] = site;
    if (this.len >= this.flushAt) this.flush();
  }

  /** Whether a run is pending and its period (for the watchdog's spin check). */
  pendingRun(): { p: number; c: number; sinceUs: number } | null {
    return this.c > 0 ? { p: this.runP, c: this.c, sinceUs: this.lastUs } : null;
  }

  /** Whether every op of the current cycle is a failed attempt or a read (a spin: nothing changes). */
  cycleChangesNothing(p: number): boolean {
    this.materialize();
    const r = this.ring;
    for (let q = p; q >= 1; q--) {
      const j = ((this.h - q + 2 * RING) & MASK) * F;
      const op = r[j]!;
      if (!(op === OP_CASFAIL || op === OP_LOAD || (op === OP_EXCHANGE && r[j + 4] === r[j + 5]))) return false;
    }
    return true;
  }

  /** The ops of the current cycle, newest last (fields per op: op, buf, off, site, val, res). */
  cycle(p: number): number[][] {
    this.materialize();
    const out: number[][] = [];
    const r = this.ring;
    for (let q = p; q >= 1; q--) {
      const j = ((this.h - q + 2 * RING) & MASK) * F;
      out.push([r[j]!, r[j + 1]!, r[j + 2]!, r[j + 3]!, r[j + 4]!, r[j + 5]!]);
    }
    return out;
  }

  /** Write everything buffered (a pending run too: the next covered op starts a new one). */
  flush(): void {
    if (this.c > 0) this.closeRun(this.now());
    const n = this.len;
    if (n === 0) return;
    const c = this.cols;
    const col = (a: Float64Array): number[] => {
      const out = new Array<number>(n); // Array.from(typedArray) goes through the iterator: far slower
      for (let i = 0; i < n; i++) out[i] = a[i]!;
      return out;
    };
    this.len = 0;
    this.write({ us: col(c.us), op: col(c.op), buf: col(c.buf), off: col(c.off), val: col(c.val), res: col(c.res), dur: col(c.dur), site: col(c.site) });
  }
}
