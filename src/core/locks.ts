/**
 * Locks built from Atomics, recognised per (buffer, byte offset) from the threads' `atom`
 * records: spin locks, futex mutexes (0/1/2), ticket locks and semaphores. Per lock:
 * acquisitions, contended acquisitions, time blocked in Atomics.wait, spin time, hold time,
 * and the sites that acquire, wait and release — the releaser is charged the delay of the
 * acquisition it let in, as Go's mutex profile does. Also the notify → wait wake-up arrows.
 */
import { AtomOp, WaitResult } from '../protocol/events';

// Local copies: a const enum read through a transpiled module (tsx, tests) is a getter call per use.
const OP_ADD = AtomOp.Add as number;
const OP_AND = AtomOp.And as number;
const OP_CASFAIL = AtomOp.CasFail as number;
const OP_CASOK = AtomOp.CasOk as number;
const OP_EXCHANGE = AtomOp.Exchange as number;
const OP_LOAD = AtomOp.Load as number;
const OP_NOTIFY = AtomOp.Notify as number;
const OP_OR = AtomOp.Or as number;
const OP_STORE = AtomOp.Store as number;
const OP_SUB = AtomOp.Sub as number;
const OP_WAIT = AtomOp.Wait as number;
const OP_WAITASYNC = AtomOp.WaitAsync as number;
const OP_XOR = AtomOp.Xor as number;
const WAIT_OK = WaitResult.Ok as number;
const WAIT_TIMED_OUT = WaitResult.TimedOut as number;
import type { DeadlockReport, LockReport, LockSite, TimelineData } from '../protocol/report';
import type { LoadedRun, LoadedThread } from './runData';
import { RunIndex } from './hbSites';
import { cycleDeadlocks, lockOrderInversions, type HoldEvent } from './deadlocks';
import { threadAtomicOps, type AtomicOp } from './atomOps';
import { lowerBound } from './search';

export type { AtomicOp };

/** Ops of one (buffer, offset), in time order. */
interface Location {
  id: string;
  buffer: string;
  off: number;
  ops: AtomicOp[];
}

/** What one op means for the lock: acquire, release, failed attempt, wait, or nothing. */
type Role = 'acq' | 'rel' | 'try' | 'wait' | null;

/** Per-thread state while replaying one lock. */
interface ThreadState {
  /** Acquisitions not yet released: first and last time (a weighted stand-in spans a run), value written. */
  held: { us: number; lastUs: number; val: number }[];
  firstTryUs: number | null;
  /** End of the latest failed attempt or wait, its site, and whether this attempt waited. */
  lastTryUs: number;
  trySites: Set<number>;
  waited: boolean;
  /** Whether this attempt's latest wait ran out its timeout (a timed lock that may give up). */
  timedOut: boolean;
  waitUs: number;
  /** Time between this attempt's tries that the thread spent elsewhere (polling from a timer is not spinning). */
  awayUs: number;
  /** A weighted run of tries whose repetitions came far apart: its span, counted away once its run is over. */
  pendingAwayUs: number;
  pendingEndUs: number;
  undo: boolean;
}

const newState = (): ThreadState => ({
  held: [], firstTryUs: null, lastTryUs: 0, trySites: new Set(), waited: false, timedOut: false, waitUs: 0, awayUs: 0, pendingAwayUs: 0, pendingEndUs: 0, undo: false,
});

/**
 * Tries this far apart are not one spin: the thread did other work or idled in its event loop
 * between them (a try-lock polled from a timer). A spinner retries within microseconds, and a
 * long run of its retries arrives as one weighted stand-in whose repetitions are close.
 */
const SPIN_GAP_US = 2_000;

/**
 * Time (µs) a thread's lane was sampled idle between two instants; without it, a whole gap
 * between tries counts as away. A spinner the OS pre-empted was not idle: its gap stays spin.
 */
export type IdleTime = (lane: number, fromUs: number, toUs: number) => number;

/** Counts the time since the thread's previous try (or wait) as away when it is a gap, not a spin. */
function noteGap(st: ThreadState, o: AtomicOp, idle: IdleTime | undefined): void {
  const away = (from: number, to: number) => (idle ? Math.min(to - from, idle(o.lane, from, to)) : to - from);
  if (st.pendingAwayUs > 0 && o.us >= st.pendingEndUs) st.awayUs += away(st.pendingEndUs - st.pendingAwayUs, st.pendingEndUs);
  st.pendingAwayUs = 0;
  if (st.firstTryUs !== null && o.us - st.lastTryUs >= SPIN_GAP_US) st.awayUs += away(st.lastTryUs, o.us);
}

/** Stand-in buffer ids the agent gives Web Locks names (`locks:<name>`). */
const WEB_LOCK_PREFIX = 'locks:';

/** An attempt given up this long before the lock was taken elsewhere in the code is not contention. */
const GIVE_UP_US = 10_000;
/** Clock skew allowed between a release and the acquisition it let in (each side stamps after its own op). */
const RELEASE_SKEW_US = 200;

const ROLE_CODE = { acquire: 0, wait: 1, release: 2 } as const;

/** Accumulates one lock's numbers and sites. */
class LockStats {
  acquisitions = 0;
  contended = 0;
  waitUs = 0;
  spinUs = 0;
  holdUs = 0;
  /** Acquisitions released by the thread that took them (what makes a word a lock). */
  closed = 0;
  releases: { us: number; op: AtomicOp }[] = [];
  delays: { us: number; delay: number; thread: LoadedThread }[] = [];
  /** Rows by "thread|role|file|line" (what the report shows), reached per op through a numeric cache. */
  private readonly sites = new Map<string, LockSite>();
  private readonly bySite = new Map<LoadedThread, Map<number, LockSite>>();

  constructor(private readonly index: RunIndex) {}

  site(op: AtomicOp, role: LockSite['role'], waitUs: number): void {
    const row = this.row(op, role);
    row.count += op.w;
    row.waitMs += waitUs / 1000;
  }

  private row(op: AtomicOp, role: LockSite['role']): LockSite {
    let cache = this.bySite.get(op.thread);
    if (!cache) this.bySite.set(op.thread, (cache = new Map()));
    const ck = op.site * 4 + ROLE_CODE[role];
    let row = cache.get(ck);
    if (row) return row;
    const s = this.index.site(op.thread, op.site);
    const key = `${op.thread.id}|${role}|${s?.file}|${s?.line}`;
    row = this.sites.get(key);
    if (!row) {
      row = { threadId: op.thread.id, role, file: s?.file ?? '<unknown>', line: s?.line ?? 0, count: 0, waitMs: 0 };
      this.sites.set(key, row);
    }
    cache.set(ck, row);
    return row;
  }

  /** Charges each contended acquisition's delay to the release that let it in (Go-style). */
  chargeReleasers(): void {
    const rel = this.releases.sort((a, b) => a.us - b.us);
    for (const d of this.delays) {
      const lo = lowerBound(rel.length, (k) => rel[k]!.us > d.us + RELEASE_SKEW_US);
      for (let k = lo - 1; k >= 0; k--) {
        if (rel[k]!.op.thread === d.thread) continue;
        this.row(rel[k]!.op, 'release').waitMs += d.delay / 1000;
        break;
      }
    }
  }

  siteRows(): LockSite[] {
    const order = { acquire: 0, wait: 1, release: 2 };
    return [...this.sites.values()]
      .map((s) => ({ ...s, waitMs: round(s.waitMs) }))
      .sort((a, b) => order[a.role] - order[b.role] || b.waitMs - a.waitMs || b.count - a.count || a.file.localeCompare(b.file) || a.line - b.line || a.threadId - b.threadId);
  }
}

/** Locks, deadlocks and wake-up arrows (fromThread/toThread = index into run.threads, times ms since run.originUs). */
export function analyseLocks(run: LoadedRun, idle?: IdleTime): { locks: LockReport[]; deadlocks: DeadlockReport[]; wakeups: TimelineData['wakeups'] } {
  const index = new RunIndex(run);
  const locations = collect(run, index);
  const locks: LockReport[] = [];
  const holds: HoldEvent[] = [];
  // Locks the watchdog saw waited for or held: never released because the program hung.
  const inDeadlock = new Set<string>();
  for (const t of run.threads) {
    for (const rec of t.deadlocks) {
      for (const x of rec.threads) {
        if (x.waiting) inDeadlock.add(lockId(x.waiting.buf, x.waiting.off));
        for (const h of x.holds) inDeadlock.add(lockId(h.buf, h.off));
      }
    }
  }
  const tickets = ticketIndexOf(locations, inDeadlock);
  for (const loc of locations) {
    const r = analyseLocation(loc, tickets, index, holds, inDeadlock, idle);
    if (r) locks.push(r);
  }
  addDeadlockedWaits(run, index, locks, locations);
  sameCodeSameShape(locks);
  locks.sort((a, b) => b.waitMs + b.spinMs - (a.waitMs + a.spinMs) || b.contended - a.contended || a.id.localeCompare(b.id));
  const cycles = cycleDeadlocks(run, index, holds);
  const seen = new Set(cycles.map((c) => [...c.locks].sort().join('|')));
  const orders = lockOrderInversions(holds, index).filter((d) => !seen.has([...d.locks].sort().join('|')));
  return { locks, deadlocks: [...cycles, ...orders], wakeups: wakeups(locations, run.originUs) };
}

/**
 * A spin lock taken by the same statement that takes a futex mutex elsewhere is that mutex,
 * never contended this run (one Mutex class instantiated per fork, per shard): one lock code,
 * one shape.
 */
function sameCodeSameShape(locks: LockReport[]): void {
  const siteKey = (s: LockSite): string => `${s.file}:${s.line}`;
  const mutexSites = new Set(locks.filter((l) => l.shape === 'mutex').flatMap((l) => l.sites.filter((s) => s.role === 'acquire').map(siteKey)));
  for (const l of locks) if (l.shape === 'spinlock' && l.sites.some((s) => s.role === 'acquire' && mutexSites.has(siteKey(s)))) l.shape = 'mutex';
}

/**
 * Threads the watchdog found blocked never finished their wait, so no wait record exists: count
 * each one's time blocked (since → the watchdog's record) on the lock it waited for, once.
 */
function addDeadlockedWaits(run: LoadedRun, index: RunIndex, locks: LockReport[], locations: Location[]): void {
  const byId = new Map(locks.map((l) => [l.id, l]));
  const opsOf = new Map(locations.map((l) => [l.id, l.ops]));
  const seen = new Set<string>();
  for (const writer of run.threads) {
    for (const rec of writer.deadlocks) {
      for (const t of rec.threads) {
        const w = t.waiting;
        const lock = w ? byId.get(lockId(w.buf, w.off)) : undefined;
        const key = `${writer.pid}:${t.tid}`;
        if (!w || !lock || seen.has(key)) continue;
        seen.add(key);
        const recorded = opsOf.get(lock.id)?.some((o) => o.op === OP_WAIT && o.thread.tid === t.tid && o.thread.pid === writer.pid && o.us >= w.sinceUs);
        if (recorded) continue; // the agent logged the interrupted wait itself
        const blockedMs = Math.max(0, rec.us - w.sinceUs) / 1000;
        lock.waitMs = round(lock.waitMs + blockedMs);
        if (lock.shape === 'spinlock') lock.shape = 'mutex';
        const thread = index.thread(writer.pid, t.tid);
        const s = thread ? index.site(thread, w.site) : null;
        lock.sites.push({ threadId: thread?.id ?? t.tid, role: 'wait', file: s?.file ?? '<unknown>', line: s?.line ?? 0, count: 1, waitMs: round(blockedMs) });
      }
    }
  }
}

/** Lock id of a location: the same "buffer:offset" label the timeline gives blocked slices. */
export function lockId(buffer: string, off: number): string {
  return `${buffer}:${off}`;
}

function collect(run: LoadedRun, index: RunIndex): Location[] {
  const byId = new Map<string, Location>();
  run.threads.forEach((t, lane) => {
    // Numeric (buffer index, offset) keys per thread: no string is built per operation.
    const local = new Map<number, Location>();
    for (const o of threadAtomicOps(t, lane)) {
      const key = o.buf * 4294967296 + o.off;
      let loc = local.get(key);
      if (!loc) {
        const buffer = index.bufferId(t, o.buf);
        const id = lockId(buffer, o.off);
        loc = byId.get(id);
        if (!loc) byId.set(id, (loc = { id, buffer, off: o.off, ops: [] }));
        local.set(key, loc);
      }
      loc.ops.push(o);
    }
  });
  const out = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const loc of out) loc.ops.sort((a, b) => a.us - b.us || a.lane - b.lane || a.seq - b.seq);
  return out;
}

/** Total weight of the ops matching pred. */
const count = (ops: AtomicOp[], pred: (o: AtomicOp) => boolean): number => ops.reduce((n, o) => n + (pred(o) ? o.w : 0), 0);
const isWait = (o: AtomicOp): boolean => o.op === OP_WAIT || o.op === OP_WAITASYNC;

/** Value after an RMW op applied to `old` with operand `val`, or null for non-RMW ops. */
function after(op: number, old: number, val: number): number | null {
  switch (op) {
    case OP_ADD:
      return old + val;
    case OP_SUB:
      return old - val;
    case OP_AND:
      return old & val;
    case OP_OR:
      return old | val;
    case OP_XOR:
      return old ^ val;
    default:
      return null;
  }
}

/**
 * Whether threads wait on the word while it is empty (zero or below), as a semaphore's takers
 * do; a gauge's waiters (readers waiting out the writers in line, a latch) wait while it is up.
 */
const waitsForNone = (ops: AtomicOp[]): boolean => ops.some((o) => isWait(o) && o.val <= 0);

/**
 * Whether a sub/add word is a semaphore rather than a gauge: a semaphore is taken (sub) before
 * it is given back (add) by each thread, or makes threads wait; an in-flight gauge is raised
 * (add) on entry and lowered (sub) on exit.
 */
function subFirst(ops: AtomicOp[]): boolean {
  const first = new Map<LoadedThread, number>();
  for (const o of ops) if ((o.op === OP_SUB || o.op === OP_ADD) && !first.has(o.thread)) first.set(o.thread, o.op);
  let sub = 0;
  let add = 0;
  for (const op of first.values()) {
    if (op === OP_SUB) sub++;
    else add++;
  }
  return sub > add;
}

/** Recognises the lock shape of one location and replays it; null when it is not a lock. */
function analyseLocation(loc: Location, ticketIndex: TicketIndex, index: RunIndex, holds: HoldEvent[], inDeadlock: Set<string>, idle: IdleTime | undefined): LockReport | null {
  const ops = loc.ops;
  const casOk = ops.filter((o) => o.op === OP_CASOK);
  const casOkW = count(casOk, () => true);
  const hasWait = ops.some(isWait);
  const xchg = count(ops, (o) => o.op === OP_EXCHANGE);
  let shape: string;
  let classify: (o: AtomicOp, st: ThreadState) => Role;
  let shared = false;
  /** Some acquisition takes the word from free to free + 2: a futex mutex's "held, with waiters" state. */
  let contendedState = false;
  const decrementing = count(casOk, (o) => o.res > 0 && o.val === o.res - 1);
  const subAcquires = count(ops, (o) => o.op === OP_SUB && o.res - o.val >= 0);
  const adds = count(ops, (o) => o.op === OP_ADD && o.val > 0);
  if (casOkW > 0 && decrementing * 2 > casOkW && (adds > 0 || casOk.some((o) => o.res > 1))) {
    shape = 'semaphore';
    classify = semaphoreRole;
  } else if (casOkW > 0 || xchg > 0) {
    const free = freeValue(casOk, ops);
    // Readers joining a held word (count up) make it a reader-writer lock: each step down is a release.
    // Not when some acquisition jumps from free to free + 2: that is a futex mutex's "locked,
    // with waiters" state (Drepper's mutex marks a held word contended by CAS 1→2, no reader).
    contendedState = casOk.some((o) => o.res === free && o.val === free + 2);
    shared = casOk.some((o) => o.res > free && o.val === o.res + 1) && !contendedState;
    if (casOkW > 0 && count(casOk, (o) => o.res === free || (shared && o.res > free && o.val === o.res + 1)) * 2 < casOkW) return null; // a CAS counter, not a lock
    // Waiting, notifying or releasing by decrement (futex style) make it a mutex even when
    // this run never contended it, and so does a CAS acquisition released by exchange (the
    // release reads whether anyone waits, as Drepper's mutex does); a bare exchange/CAS + store
    // lock, or a test-and-set lock released by exchange, is a spin lock.
    const exchangeRelease = casOkW > 0 && ops.some((o) => o.op === OP_EXCHANGE && o.val === free && o.res !== free);
    const futexish = hasWait || exchangeRelease || ops.some((o) => o.op === OP_NOTIFY || o.op === OP_SUB);
    // Readers counting up on a held word: a reader-writer lock, whatever its wait style.
    shape = shared ? 'rwlock' : futexish ? 'mutex' : 'spinlock';
    classify = (o) => mutexRole(o, free, shared);
  } else if (subAcquires > 0 && adds > 0 && !ops.some((o) => o.op === OP_SUB && o.val !== 1) && (waitsForNone(ops) || subFirst(ops))) {
    shape = 'semaphore';
    classify = semaphoreRole;
  } else {
    return ticketLock(loc, ticketIndex, index, holds, inDeadlock);
  }
  // The agent logs each Web Locks name (navigator.locks) as a mutex on a stand-in word.
  if (loc.buffer.startsWith(WEB_LOCK_PREFIX) && shape === 'mutex') shape = 'web lock';
  const semaphore = shape === 'semaphore';
  const stats = new LockStats(index);
  const states = new Map<LoadedThread, ThreadState>();
  const mine: HoldEvent[] = [];
  /** Acquisitions not yet released, over all threads. */
  let holders = 0;
  for (const o of ops) {
    let st = states.get(o.thread);
    if (!st) states.set(o.thread, (st = newState()));
    let role = classify(o, st);
    // A thread that holds the lock and reads back the value its own acquisition wrote (a
    // reentrant lock checking "is the owner me?" by load or a failing CAS) is not held out.
    if (role === 'try' && !semaphore && st.held.length > 0 && o.res === st.held[st.held.length - 1]!.val) role = null;
    // A CAS from a held-looking value that nobody holds: the word carries more than held/free (a
    // writer that announced itself over the readers and swaps "writer waiting" for "writer
    // holds" once they drained). Nobody was in, so that swap is the acquisition. Not on a futex
    // mutex with a contended state: there a waiter's CAS 1→2 can land between the holder's
    // release (2→1) and its store of 0, and it only marks the word.
    if (role === 'try' && !semaphore && !contendedState && o.op === OP_CASOK && o.val !== o.res && holders === 0) role = 'acq';
    if (role === 'wait') {
      noteGap(st, o, idle);
      stats.site(o, 'wait', o.dur);
      stats.waitUs += o.dur;
      st.waitUs += o.dur;
      st.firstTryUs ??= o.us;
      st.waited = true;
      st.timedOut = o.res === WAIT_TIMED_OUT;
      st.lastTryUs = o.us + o.dur;
      st.trySites.add(o.site);
    } else if (role === 'try') {
      noteGap(st, o, idle);
      st.firstTryUs ??= o.us;
      st.lastTryUs = o.lastUs;
      st.trySites.add(o.site);
      // A stand-in for w tries in a row (not interleaved with this thread's other ops of a cycle,
      // which start before its last repetition): repetitions far apart were polls.
      if (o.w > 1 && (o.lastUs - o.us) / (o.w - 1) >= SPIN_GAP_US) {
        st.pendingAwayUs = o.lastUs - o.us;
        st.pendingEndUs = o.lastUs;
      }
    } else if (role === 'acq') {
      noteGap(st, o, idle);
      // On a reader-writer lock, counting up by one is a reader's (shared) acquisition.
      acquire(stats, st, o, loc, semaphore ? null : mine, shared && o.op === OP_CASOK && o.val === o.res + 1);
      holders += o.w;
    } else if (role === 'rel') {
      // A mutex "released" by a thread that does not hold it is an initialising store; a
      // semaphore is often posted by a thread that never waited on it (producer → consumer).
      if (st.held.length === 0 && !semaphore) continue;
      const since = semaphore ? st.held.shift() : st.held.pop();
      if (since !== undefined) {
        holders = Math.max(0, holders - o.w);
        // A stand-in release times one cycle (its first repetition against the acquisition's);
        // a real one pairs with the last repetition of a stand-in acquisition.
        stats.holdUs += o.w > 1 ? o.w * Math.max(0, o.us - since.us) : Math.max(0, o.us - since.lastUs);
        stats.closed += o.w;
      }
      stats.site(o, 'release', 0);
      stats.releases.push({ us: o.us, op: o });
      if (!semaphore) mine.push({ thread: o.thread, seq: o.seq, us: o.us, lock: loc.id, acquire: false, site: o.site });
    }
  }
  if (stats.acquisitions === 0) return null;
  // A lock is given back by whoever took it; flags set by one thread and cleared by another,
  // counters and one-shot elections are not locks. (A thread that never got to release, as in
  // a deadlock, still shows a lock when others waited on it.)
  if (!semaphore && stats.closed * 2 < stats.acquisitions && !((hasWait || inDeadlock.has(loc.id)) && stats.acquisitions <= states.size)) return null;
  for (const h of mine) holds.push(h); // not push(...mine): a spread of ~10⁵ arguments overflows the stack
  stats.chargeReleasers();
  return report(loc, shape, stats);
}

/** Records an acquisition, contended when this attempt failed or waited first. */
function acquire(stats: LockStats, st: ThreadState, o: AtomicOp, loc: Location, holds: HoldEvent[] | null, shared = false): void {
  stats.acquisitions += o.w;
  let delay = 0;
  // A failed try given up long ago (tryLock, then other work, then lock() elsewhere) is not
  // part of this acquisition.
  // So is a timed lock that ran out its wait and went elsewhere: waiting does not tie it to
  // this acquisition then.
  const gaveUp = st.timedOut && o.us - st.lastTryUs >= GIVE_UP_US;
  const attempt = st.firstTryUs !== null && ((st.waited && !gaveUp) || st.trySites.has(o.site) || o.us - st.lastTryUs < GIVE_UP_US);
  if (attempt) {
    stats.contended += o.w;
    delay = Math.max(0, o.us - st.firstTryUs!);
    stats.spinUs += o.w * Math.max(0, delay - st.waitUs - st.awayUs);
    stats.delays.push({ us: o.us, delay: delay * o.w, thread: o.thread });
  }
  stats.site(o, 'acquire', delay * o.w);
  st.firstTryUs = null;
  st.waitUs = 0;
  st.awayUs = 0;
  st.pendingAwayUs = 0;
  st.waited = false;
  st.timedOut = false;
  st.trySites.clear();
  st.held.push({ us: o.us, lastUs: o.lastUs, val: o.val });
  holds?.push({ thread: o.thread, seq: o.seq, us: o.us, lock: loc.id, acquire: true, site: o.site, ...(shared ? { shared } : {}) });
}

function mutexRole(o: AtomicOp, free: number, shared: boolean): Role {
  switch (o.op) {
    case OP_CASOK:
      if (o.res === free && o.val !== free) return 'acq';
      // A reader joining a reader-writer lock (count up from held), or leaving it (count down).
      if (shared && o.res > free && o.val === o.res + 1) return 'acq';
      if (shared && o.res > free + 1 && o.val === o.res - 1) return 'rel';
      return o.val === free && o.res !== free ? 'rel' : 'try';
    case OP_CASFAIL:
      // A reader whose count-up lost to another reader's: the lock was open to it, not held out.
      return shared && o.res > free && o.val > free ? null : 'try';
    case OP_EXCHANGE:
      if (o.res === free && o.val !== free) return 'acq';
      if (o.val === free && o.res !== free) return 'rel';
      return o.val !== free ? 'try' : null;
    case OP_STORE:
      return o.val === free ? 'rel' : null;
    case OP_LOAD:
      // Test-and-test-and-set spinning on a held lock; a reader seeing other readers is not held out.
      return o.res !== free && !(shared && o.res > free) ? 'try' : null;
    case OP_WAIT:
    case OP_WAITASYNC:
      return 'wait';
    default: {
      const v = after(o.op, o.res, o.val);
      if (v === null || o.res === free) return null;
      // Back to free, or (a reader leaving a reader-writer lock) one step towards it.
      return v === free || (shared && o.op === OP_SUB && o.res > free && v >= free && v < o.res) ? 'rel' : null;
    }
  }
}

function semaphoreRole(o: AtomicOp, st: ThreadState): Role {
  switch (o.op) {
    case OP_CASOK:
      return o.val < o.res ? 'acq' : o.val > o.res ? 'rel' : null;
    case OP_CASFAIL:
      return 'try';
    case OP_SUB:
      if (o.res - o.val >= 0) return 'acq';
      st.undo = true; // went negative: the thread adds it back and waits
      return 'try';
    case OP_ADD:
      if (st.undo) {
        st.undo = false;
        return null;
      }
      return o.val > 0 ? 'rel' : null;
    case OP_WAIT:
    case OP_WAITASYNC:
      return 'wait';
    default:
      return null;
  }
}

/** Per (buffer, thread): the tickets taken there (fetch-add results), for ticket-lock recognition without a quadratic search. */
type TicketIndex = Map<string, Map<LoadedThread, Map<number, { seq: number; off: number }[]>>>;

function ticketIndexOf(locations: Location[], inDeadlock: Set<string>): TicketIndex {
  const idx: TicketIndex = new Map();
  // Only a buffer with a possible "now serving" word (loaded, and added to or stored) can hold a
  // ticket lock: a plain counter bumped millions of times is not indexed (it cost seconds and GBs).
  // A serving word the watchdog saw waited on may never have been advanced: its holder hung.
  const serving = new Set<string>();
  for (const loc of locations) {
    if (loc.ops.some((o) => o.op === OP_LOAD) && (inDeadlock.has(loc.id) || loc.ops.some((o) => o.op === OP_ADD || o.op === OP_STORE))) serving.add(loc.buffer);
  }
  for (const loc of locations) {
    if (!serving.has(loc.buffer)) continue;
    for (const o of loc.ops) {
      if (o.op !== OP_ADD || o.val <= 0 || o.w !== 1) continue;
      let byThread = idx.get(loc.buffer);
      if (!byThread) idx.set(loc.buffer, (byThread = new Map()));
      let byValue = byThread.get(o.thread);
      if (!byValue) byThread.set(o.thread, (byValue = new Map()));
      let list = byValue.get(o.res);
      if (!list) byValue.set(o.res, (list = []));
      list.push({ seq: o.seq, off: loc.off });
    }
  }
  return idx;
}

/**
 * Ticket lock on its "now serving" word: a thread took ticket v by fetch-add on another word
 * of the buffer, spun or waited until a load here returned v (acquire), and later released
 * by fetch-add here returning v, or by storing v + 1.
 */
function ticketLock(loc: Location, tickets: TicketIndex, index: RunIndex, allHolds: HoldEvent[], inDeadlock: Set<string>): LockReport | null {
  const ops = loc.ops;
  if (!(inDeadlock.has(loc.id) || ops.some((o) => o.op === OP_ADD || o.op === OP_STORE)) || !ops.some((o) => o.op === OP_LOAD)) return null;
  const inBuffer = tickets.get(loc.buffer);
  if (!inBuffer) return null;
  const stats = new LockStats(index);
  const holds: HoldEvent[] = [];
  const byThread = new Map<LoadedThread, AtomicOp[]>();
  let releases = 0;
  for (const o of ops) (byThread.get(o.thread) ?? byThread.set(o.thread, []).get(o.thread)!).push(o);
  for (const [thread, list] of byThread) {
    list.sort((a, b) => a.seq - b.seq);
    const mine = inBuffer.get(thread);
    let from = 0;
    for (let k = 0; k < list.length; k++) {
      const rel = list[k]!;
      let v: number;
      if (rel.op === OP_ADD && rel.val > 0) v = rel.res;
      else if (rel.op === OP_STORE) v = rel.val - 1;
      else continue;
      releases++;
      let acqAt = -1;
      for (let q = k - 1; q >= from && acqAt < 0; q--) if (list[q]!.op === OP_LOAD && list[q]!.res === v) acqAt = q;
      const took = mine?.get(v)?.some((t) => t.off !== loc.off && t.seq < rel.seq) ?? false;
      if (acqAt < 0 || !took) {
        from = k + 1;
        continue;
      }
      const st = newState();
      for (let q = from; q < acqAt; q++) {
        const o = list[q]!;
        if (isWait(o)) {
          stats.site(o, 'wait', o.dur);
          stats.waitUs += o.dur;
          st.waitUs += o.dur;
          st.waited = true;
          st.firstTryUs ??= o.us;
        } else if (o.op === OP_LOAD && o.res !== v) {
          st.firstTryUs ??= o.us;
          st.trySites.add(o.site);
          st.lastTryUs = o.lastUs;
        }
      }
      acquire(stats, st, list[acqAt]!, loc, holds);
      stats.holdUs += rel.us - list[acqAt]!.us;
      stats.closed++;
      stats.site(rel, 'release', 0);
      stats.releases.push({ us: rel.us, op: rel });
      holds.push({ thread, seq: rel.seq, us: rel.us, lock: loc.id, acquire: false, site: rel.site });
      from = k + 1;
    }
    // A holder the watchdog found stuck never released: its turn came (a load returned its own
    // ticket) and it still holds the lock, which the deadlock's cycle goes through.
    if (!inDeadlock.has(loc.id) || !mine) continue;
    // Its turn is the ticket it drew last before that load (an older fetch-add, such as a
    // barrier's arrival count, may return the same number by chance).
    for (let q = list.length - 1; q >= from; q--) {
      const o = list[q]!;
      if (o.op !== OP_LOAD) continue;
      let latest: { seq: number; v: number } | null = null;
      for (const [v, taken] of mine) for (const t of taken) if (t.off !== loc.off && t.seq < o.seq && (!latest || t.seq > latest.seq)) latest = { seq: t.seq, v };
      if (latest?.v !== o.res) continue;
      acquire(stats, newState(), o, loc, holds);
      break;
    }
  }
  // In a ticket lock every release returns the releaser's own ticket; a barrier's generation
  // counter matches only by coincidence, so most releases must match.
  if (stats.acquisitions === 0 || stats.acquisitions < 0.8 * releases) return null;
  for (const h of holds) allHolds.push(h);
  stats.chargeReleasers();
  return report(loc, 'ticket', stats);
}

function report(loc: Location, shape: string, s: LockStats): LockReport {
  return {
    id: loc.id,
    buffer: loc.buffer,
    byteOffset: loc.off,
    shape,
    acquisitions: s.acquisitions,
    contended: s.contended,
    waitMs: round(s.waitUs / 1000),
    spinMs: round(s.spinUs / 1000),
    holdMs: round(s.holdUs / 1000),
    sites: s.siteRows(),
  };
}

/** The result most weight agrees on (ties: the smaller value). */
/**
 * The value a lock word holds when nobody has it: the value most acquisitions start from, or,
 * on a word that is counted up by one and back down (a reader-writer lock), the lowest value
 * it is counted up from: readers of a busy lock mostly join others (1 → 2, 2 → 3), so
 * acquisitions from free can be the fewest.
 */
function freeValue(casOk: AtomicOp[], ops: AtomicOp[]): number {
  const mode = weightedMode(casOk) ?? 0;
  const countedDown = ops.some((o) => (o.op === OP_SUB && o.val === 1) || (o.op === OP_CASOK && o.val === o.res - 1));
  if (!countedDown) return mode;
  // Readers join by counting up from free or above. A count-up that undoes the same thread's
  // previous CAS (a writer's 0→-1 given back by -1→0) is a release, not a join from below free.
  const last = new Map<LoadedThread, AtomicOp>();
  let min = mode;
  for (const o of casOk) {
    const prev = last.get(o.thread);
    last.set(o.thread, o);
    if (o.val === o.res + 1 && o.res < min && !(prev && prev.val === o.res && prev.res === o.val)) min = o.res;
  }
  return min;
}

function weightedMode(ops: AtomicOp[]): number | null {
  const n = new Map<number, number>();
  let best: number | null = null;
  let bestN = 0;
  for (const o of ops) {
    const c = (n.get(o.res) ?? 0) + o.w;
    n.set(o.res, c);
    if (c > bestN || (c === bestN && best !== null && o.res < best)) {
      best = o.res;
      bestN = c;
    }
  }
  return best;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Wake-up arrows: each notify is paired with the waits it woke — waits on the same location
 * by other threads, in progress at the notify and ending 'ok' after it, nearest end first,
 * at most as many as the notify reported woken.
 */
function wakeups(locations: Location[], originUs: number): TimelineData['wakeups'] {
  const out: TimelineData['wakeups'] = [];
  for (const loc of locations) {
    const waits = loc.ops.filter((o) => (o.op === OP_WAIT || o.op === OP_WAITASYNC) && o.res === WAIT_OK);
    const notifies = loc.ops.filter((o) => o.op === OP_NOTIFY);
    for (const [n, w] of pairWakeups(waits, notifies)) {
      out.push({ fromThread: n.lane, fromMs: (n.us - originUs) / 1000, toThread: w.lane, toMs: (w.us + w.dur - originUs) / 1000, lock: loc.id });
    }
  }
  return out.sort((a, b) => a.fromMs - b.fromMs || a.fromThread - b.fromThread || a.toThread - b.toThread);
}

type TimedOp = Pick<AtomicOp, 'lane' | 'us' | 'dur' | 'res'> & { thread: unknown };

/**
 * Pairs notifies (in their order) with the waits they woke, as [notify, wait]. Waits are taken
 * by end time; a tree over their start times finds the next one in progress at a notify in
 * O(log n), where scanning every later-ending wait made a run of 10⁵ wait/notify hand-offs
 * (most notifies finding nobody parked) quadratic. `stats.visits` counts tree nodes looked at.
 */
export function pairWakeups<T extends TimedOp>(waits: T[], notifies: T[], stats?: { visits: number }): [T, T][] {
  const out: [T, T][] = [];
  if (waits.length === 0) return out;
  waits = [...waits].sort((a, b) => a.us + a.dur - (b.us + b.dur) || a.lane - b.lane);
  const open = new StartTree(waits.map((w) => w.us));
  for (const n of notifies) {
    // A notify that found nobody parked can still have ended a wait the agent slices into
    // short waits (for its watchdog): one wait in progress across the notify is its wake-up.
    const limit = n.res > 0 ? n.res : 1;
    const lo = lowerBound(waits.length, (k) => waits[k]!.us + waits[k]!.dur >= n.us);
    let woken = 0;
    for (let k = open.firstAtMost(lo, n.us); k >= 0 && woken < limit; k = open.firstAtMost(k + 1, n.us)) {
      const w = waits[k]!;
      if (w.thread === n.thread) continue;
      open.remove(k);
      woken++;
      out.push([n, w]);
    }
  }
  if (stats) stats.visits += open.visits;
  return out;
}

/** Start times of waits by index, removable, answering "first index ≥ from starting at or before x". */
class StartTree {
  private readonly size: number;
  /** Minimum start below each node (Infinity: removed or absent). */
  private readonly min: Float64Array;
  visits = 0;

  constructor(starts: number[]) {
    let size = 1;
    while (size < starts.length) size *= 2;
    this.size = size;
    this.min = new Float64Array(2 * size).fill(Infinity);
    for (let i = 0; i < starts.length; i++) this.min[size + i] = starts[i]!;
    for (let i = size - 1; i >= 1; i--) this.min[i] = Math.min(this.min[2 * i]!, this.min[2 * i + 1]!);
  }

  remove(i: number): void {
    let j = this.size + i;
    this.min[j] = Infinity;
    for (j >>= 1; j >= 1; j >>= 1) this.min[j] = Math.min(this.min[2 * j]!, this.min[2 * j + 1]!);
  }

  /** The first index ≥ from whose start is ≤ x, or −1. */
  firstAtMost(from: number, x: number): number {
    if (from >= this.size) return -1;
    return this.descend(1, 0, this.size, from, x);
  }

  private descend(node: number, lo: number, hi: number, from: number, x: number): number {
    this.visits++;
    if (hi <= from || this.min[node]! > x) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >>> 1;
    const left = this.descend(2 * node, lo, mid, from, x);
    return left >= 0 ? left : this.descend(2 * node + 1, mid, hi, from, x);
  }
}
