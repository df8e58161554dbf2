/**
 * A thread's Atomics operations, rebuilt from its compressed `atom` records. The agent logs
 * an operation with its time unless it equals the one `p` places earlier in the thread's
 * sequence; such runs arrive as `Repeat` entries (val = p, res = how many). Here a run becomes
 * its first cycle and its last partial cycle op by op, and the whole cycles between as one
 * stand-in operation per position, weighted by how many cycles it stands for (`w`), timed from
 * the cycle it copies (`us` = its first repetition, `lastUs` = its last): lock roles, counts and
 * nesting stay exact, and per-cycle durations (hold, spin) come from real time stamps.
 */
import { AtomOp } from '../protocol/events';
import type { LoadedThread } from './runData';

const OP_REPEAT = AtomOp.Repeat as number;
/** How far back a period may reach (the agent's ring). */
const HISTORY = 8;

/** One Atomics operation of one thread (or a weighted stand-in for a run of them). */
export interface AtomicOp {
  thread: LoadedThread;
  lane: number;
  /** Position in the thread's own sequence (orders a thread's operations exactly). */
  seq: number;
  us: number;
  /** Time of the last operation this entry stands for (= us for a single one). */
  lastUs: number;
  op: number;
  buf: number;
  off: number;
  val: number;
  res: number;
  dur: number;
  site: number;
  /** How many operations this entry stands for. */
  w: number;
}

/** Every Atomics operation of a thread in its own order, runs folded into weighted stand-ins. */
export function threadAtomicOps(t: LoadedThread, lane: number): AtomicOp[] {
  const out: AtomicOp[] = [];
  const hist: AtomicOp[] = []; // the thread's last HISTORY operations, runs expanded
  let seq = 0;
  let lastUs = -Infinity;
  const remember = (o: AtomicOp): void => {
    hist.push(o);
    if (hist.length > 4 * HISTORY) hist.splice(0, hist.length - HISTORY);
  };
  for (const a of t.atoms) {
    for (let i = 0; i < a.us.length; i++) {
      const op = a.op[i]!;
      if (op !== OP_REPEAT) {
        const us = Math.max(a.us[i]!, lastUs); // a thread's times never go back
        lastUs = us;
        const o: AtomicOp = {
          thread: t, lane, seq: seq++, us, lastUs: us, op, buf: a.buf[i]!, off: a.off[i]!, val: a.val[i]!, res: a.res[i]!,
          dur: a.dur[i]!, site: a.site[i]!, w: a.n?.[i] ?? 1,
        };
        out.push(o);
        remember(o);
        continue;
      }
      const p = a.val[i]!;
      const c = a.res[i]!;
      if (!(p >= 1 && p <= hist.length && c >= 1)) continue; // a run without its cycle: nothing to copy
      const tmpl = hist.slice(hist.length - p);
      const period = cyclePeriod(hist, p, c, a.dur[i]!);
      // The run is: its first cycle, m more whole cycles, a partial one. The first and the partial
      // are rebuilt op by op, so the sequence starts and ends exactly as it did (what was held
      // before and after the run); the m middle cycles become one weighted stand-in per position.
      const m = c > 2 * p ? Math.floor((c - p) / p) : 0;
      const emit = (k: number, cycle: number, w: number): void => {
        const src = tmpl[k]!;
        const us = Math.max(src.us + cycle * period, lastUs);
        lastUs = us;
        out.push({ ...src, seq: seq++, us, lastUs: Math.max(us, src.us + (cycle + w - 1) * period), w, dur: 0 });
      };
      const head = m > 0 ? p : c;
      for (let j = 0; j < head; j++) emit(j % p, Math.floor(j / p) + 1, 1);
      if (m > 0) {
        for (let k = 0; k < p; k++) emit(k, 2, m);
        for (let j = p + m * p; j < c; j++) emit(j % p, Math.floor(j / p) + 1, 1);
      }
      // The run's last operations become the history later runs copy from.
      const tail = Math.min(c, HISTORY);
      for (let j = c - tail; j < c; j++) {
        const src = tmpl[j % p]!;
        remember({ ...src, us: src.us + (Math.floor(j / p) + 1) * period, lastUs: 0, w: 1 });
      }
      lastUs = Math.max(lastUs, a.us[i]! + a.dur[i]!);
    }
  }
  return out;
}

/**
 * Time per cycle of a run: from the run's span when it is long (the span also holds the gap
 * before the op that ended it, negligible over many cycles), else from the timed cycle before it.
 */
function cyclePeriod(hist: AtomicOp[], p: number, c: number, dur: number): number {
  const n = hist.length;
  const fromHistory = n > p ? hist[n - 1]!.us - hist[n - 1 - p]!.us : NaN;
  const fromSpan = c >= p ? (dur * p) / c : NaN;
  if (c >= 4 * p && Number.isFinite(fromSpan)) return fromSpan;
  if (Number.isFinite(fromHistory) && fromHistory >= 0) return fromHistory;
  return Number.isFinite(fromSpan) ? fromSpan : 0;
}
