/**
 * Deadlocks that happened (the watchdog's `deadlock` records → wait-for cycle) and deadlocks
 * that could happen (lock-order inversion: two locks nested in opposite orders by different
 * threads, unless a common outer "gate" lock serialises both orders).
 */
import { basename } from 'node:path';
import type { DeadlockReport } from '../protocol/report';
import type { LoadedRun, LoadedThread, ResolvedSite } from './runData';
import { parseFrame, type RunIndex } from './hbSites';

/** An acquire or release of a recognised mutual-exclusion lock, in a thread's own order. */
export interface HoldEvent {
  thread: LoadedThread;
  seq: number;
  us: number;
  lock: string;
  acquire: boolean;
  site: number;
  /** A reader's acquisition of a reader-writer lock (shared mode: other readers are let in). */
  shared?: boolean;
}

type Site = DeadlockReport['sites'][number];

function where(s: ResolvedSite | null): string {
  return s ? `${basename(s.file)}:${s.line}` : 'an uninstrumented line';
}

/** A lock as a user finds it: "app.js:9@4" = byte 4 of the buffer allocated at app.js:9 (else the id). */
function lockName(id: string, index: RunIndex): string {
  const cut = id.lastIndexOf(':');
  const at = index.bufferInfo(id.slice(0, cut)).allocatedAt;
  return at ? `${where(at)}@${id.slice(cut + 1)}` : id;
}

/**
 * Who called the code at a site, from the stack the thread recorded there: lock helpers wait
 * and acquire inside themselves (mutex.js:13), the caller is the line the user looks for.
 */
function callerOf(index: RunIndex, thread: LoadedThread | null | undefined, siteId: number, at: ResolvedSite | null): ResolvedSite | null {
  if (!thread || !at) return null;
  for (const f of index.stack(thread, siteId).slice(1)) {
    const s = parseFrame(f);
    if (!s || s.file.startsWith('node:') || (s.file === at.file && s.line === at.line)) continue;
    return s;
  }
  return null;
}

/** "mutex.js:13 (called from app.js:22)", or inside parentheses already "mutex.js:13, called from app.js:22". */
function whereCalled(s: ResolvedSite | null, caller: ResolvedSite | null, inner = false): string {
  if (!caller) return where(s);
  return inner ? `${where(s)}, called from ${where(caller)}` : `${where(s)} (called from ${where(caller)})`;
}

function siteRow(threadId: number, s: ResolvedSite | null, role: string): Site | null {
  return s ? { threadId, file: s.file, line: s.line, role } : null;
}

/** Per lock id, the threads (key) that took it and never gave it back, with the acquiring site of the last time. */
function unreleased(holds: HoldEvent[]): Map<string, Map<LoadedThread, number>> {
  const count = new Map<string, Map<LoadedThread, { n: number; site: number }>>();
  const inOrder = [...holds].sort((a, b) => (a.thread.key < b.thread.key ? -1 : a.thread.key > b.thread.key ? 1 : a.seq - b.seq));
  for (const e of inOrder) {
    let per = count.get(e.lock);
    if (!per) count.set(e.lock, (per = new Map()));
    const c = per.get(e.thread) ?? { n: 0, site: 0 };
    if (e.acquire) per.set(e.thread, { n: c.n + 1, site: e.site });
    else per.set(e.thread, { n: Math.max(0, c.n - 1), site: c.site });
  }
  const out = new Map<string, Map<LoadedThread, number>>();
  for (const [lock, per] of count) {
    for (const [t, c] of per) if (c.n > 0) (out.get(lock) ?? out.set(lock, new Map()).get(lock)!).set(t, c.site);
  }
  return out;
}

/** Deadlocks the watchdog saw: the cycle of the wait-for graph, or every blocked thread. */
export function cycleDeadlocks(run: LoadedRun, index: RunIndex, holds: HoldEvent[] = []): DeadlockReport[] {
  // Who ended holding what: only needed to explain a watchdog record.
  let kept: Map<string, Map<LoadedThread, number>> | null = null;
  const out: DeadlockReport[] = [];
  const seen = new Set<string>();
  for (const writer of run.threads) {
    for (const rec of writer.deadlocks) {
      const sig = rec.threads
        .map((x) => `${x.tid}:${x.waiting ? `${x.waiting.buf}:${x.waiting.off}` : '-'}`)
        .sort()
        .join(',');
      if (seen.has(`${writer.pid}|${sig}`)) continue;
      seen.add(`${writer.pid}|${sig}`);
      const r = oneCycle(writer.pid, rec.threads, index, (kept ??= unreleased(holds)));
      if (r) out.push(r);
    }
  }
  return out;
}

function oneCycle(pid: number, threads: LoadedThread['deadlocks'][number]['threads'], index: RunIndex, kept: Map<string, Map<LoadedThread, number>>): DeadlockReport | null {
  const owner = new Map<string, number>();
  for (const t of threads) for (const h of t.holds) owner.set(`${h.buf}:${h.off}`, t.tid);
  const byTid = new Map(threads.map((t) => [t.tid, t]));
  // Locks the agent does not track as held (a ticket lock's turn is a load of the serving word)
  // but the analysis saw a blocked thread take and never give back.
  const alsoHeld = new Map<number, { lock: string; site: number }[]>();
  for (const [lock, per] of kept) {
    if (owner.has(lock)) continue;
    for (const [t, site] of per) {
      if (t.pid !== pid || !byTid.has(t.tid)) continue;
      owner.set(lock, t.tid);
      (alsoHeld.get(t.tid) ?? alsoHeld.set(t.tid, []).get(t.tid)!).push({ lock, site });
    }
  }
  const waitsFor = (tid: number): string | undefined => {
    const w = byTid.get(tid)?.waiting;
    return w ? `${w.buf}:${w.off}` : undefined;
  };
  const next = (tid: number): number | undefined => {
    const lock = waitsFor(tid);
    return lock === undefined ? undefined : owner.get(lock);
  };
  // Follow wait-for edges from each blocked thread; the first repeat closes a cycle.
  let cycle: number[] = [];
  for (const start of [...byTid.keys()].sort((a, b) => a - b)) {
    const path: number[] = [];
    let cur: number | undefined = start;
    while (cur !== undefined && !path.includes(cur)) {
      path.push(cur);
      cur = next(cur);
    }
    if (cur !== undefined) {
      cycle = path.slice(path.indexOf(cur));
      break;
    }
  }
  const id = (tid: number): number => index.thread(pid, tid)?.id ?? tid;
  const sites: Site[] = [];
  const parts: string[] = [];
  const locks: string[] = [];
  const members = cycle.length ? cycle : threads.filter((t) => t.waiting).map((t) => t.tid);
  if (members.length === 0) return null;
  for (const tid of members) {
    const t = byTid.get(tid)!;
    const thread = index.thread(pid, tid);
    const w = t.waiting!;
    const lock = `${w.buf}:${w.off}`;
    locks.push(lock);
    const waitSite = thread ? index.site(thread, w.site) : null;
    const waitCaller = callerOf(index, thread, w.site, waitSite);
    for (const r of [siteRow(id(tid), waitSite, 'waits'), siteRow(id(tid), waitCaller, 'waits: called from')]) if (r) sites.push(r);
    const held = [...t.holds.map((h) => ({ lock: `${h.buf}:${h.off}`, site: h.site })), ...(alsoHeld.get(tid) ?? [])].map((h) => {
      const site = thread ? index.site(thread, h.site) : null;
      return { lock: h.lock, site, caller: callerOf(index, thread, h.site, site) };
    });
    for (const h of held) {
      for (const r of [siteRow(id(tid), h.site, `holds ${h.lock}`), siteRow(id(tid), h.caller, `holds ${h.lock}: called from`)]) if (r) sites.push(r);
    }
    const holder = owner.get(lock);
    const mine = held.find((h) => members.some((m) => m !== tid && waitsFor(m) === h.lock));
    parts.push(
      `thread ${id(tid)} waits at ${whereCalled(waitSite, waitCaller)} for lock ${lockName(lock, index)}` +
        (holder !== undefined ? ` held by thread ${id(holder)}` : '') +
        (mine ? ` while holding lock ${lockName(mine.lock, index)} (taken at ${whereCalled(mine.site, mine.caller, true)})` : ''),
    );
  }
  const someHeld = members.some((tid) => owner.has(waitsFor(tid) ?? ''));
  // A lock no live thread holds, kept by a thread that is gone: it exited holding it.
  const gone: string[] = [];
  for (const tid of members) {
    const lock = waitsFor(tid);
    if (lock === undefined || owner.has(lock)) continue;
    for (const [t, site] of kept.get(lock) ?? []) {
      if (t.pid !== pid || byTid.has(t.tid)) continue;
      const at = index.site(t, site);
      gone.push(`thread ${t.id} took lock ${lockName(lock, index)} at ${whereCalled(at, callerOf(index, t, site, at))} and ended without releasing it`);
      const r = siteRow(t.id, at, `took ${lock} and ended holding it`);
      if (r) sites.push(r);
    }
  }
  const message = cycle.length
    ? `Deadlock: ${parts.join('; ')}. The watchdog ended the program.`
    : gone.length && !someHeld
      ? `Every live thread was blocked on a lock whose holder is gone: ${[...new Set(gone)].join('; ')}; ${parts.join('; ')}. The watchdog ended the program.`
      : someHeld
      ? `Every live thread was blocked, with no cycle of held locks (a thread waits for something else: a barrier, a flag, a message): ${parts.join('; ')}. The watchdog ended the program.`
      : `Every live thread was blocked and no thread holds what another waits for (a lost or missing Atomics.notify?): ${parts.join('; ')}. The watchdog ended the program.`;
  return { kind: 'cycle', threadIds: members.map(id), locks, message, sites };
}

/** One nesting "holding A, thread t acquired B" (with the modes A was held and B taken in). */
interface OrderEdge {
  thread: LoadedThread;
  siteA: number;
  siteB: number;
  sharedA: boolean;
  sharedB: boolean;
  /** The other locks held meanwhile ("lock" or "lock/r" when held in shared mode). */
  gates: string[];
}

/** Lock-order inversions: cycles of the lock-order graph over different threads, gate locks filtered. */
export function lockOrderInversions(events: HoldEvent[], index: RunIndex): DeadlockReport[] {
  const edges = new Map<string, Map<string, OrderEdge[]>>();
  const byThread = new Map<LoadedThread, HoldEvent[]>();
  for (const e of events) (byThread.get(e.thread) ?? byThread.set(e.thread, []).get(e.thread)!).push(e);
  for (const [thread, list] of byThread) {
    list.sort((a, b) => a.seq - b.seq);
    const held: { lock: string; site: number; shared: boolean }[] = [];
    const dedupe = new Set<string>();
    for (const e of list) {
      if (!e.acquire) {
        const k = held.map((h) => h.lock).lastIndexOf(e.lock);
        if (k >= 0) held.splice(k, 1);
        continue;
      }
      for (const h of held) {
        if (h.lock === e.lock) continue;
        const shared = e.shared === true;
        const gates = held.filter((g) => g.lock !== h.lock && g.lock !== e.lock).map((g) => (g.shared ? `${g.lock}/r` : g.lock)).sort();
        const key = `${h.lock}|${e.lock}|${h.site}|${e.site}|${h.shared}|${shared}|${gates.join(',')}`;
        if (dedupe.has(key)) continue;
        dedupe.add(key);
        const from = edges.get(h.lock) ?? edges.set(h.lock, new Map()).get(h.lock)!;
        (from.get(e.lock) ?? from.set(e.lock, []).get(e.lock)!).push({ thread, siteA: h.site, siteB: e.site, sharedA: h.shared, sharedB: shared, gates });
      }
      held.push({ lock: e.lock, site: e.site, shared: e.shared === true });
    }
  }
  const out: DeadlockReport[] = [];
  for (const cycle of simpleCycles(edges, MAX_CYCLE_LOCKS)) {
    const chosen = chooseInstances(cycle, edges);
    if (chosen) out.push(orderReport(cycle, chosen, index));
  }
  return out;
}

/**
 * Longest lock-order cycle looked for: a ring of eight (dining philosophers, a pipeline of
 * stages each locking its neighbour) is still a textbook program; the search is also bounded
 * by a step budget, so a dense order graph costs no more than a sparse one.
 */
const MAX_CYCLE_LOCKS = 8;
const CYCLE_SEARCH_STEPS = 200_000;

/** Simple cycles up to maxLen locks, each listed once starting from its smallest lock id. */
function simpleCycles(edges: Map<string, Map<string, OrderEdge[]>>, maxLen: number): string[][] {
  const out: string[][] = [];
  const nodes = [...edges.keys()].sort();
  const next = new Map(nodes.map((n) => [n, [...(edges.get(n)?.keys() ?? [])].sort()]));
  let steps = CYCLE_SEARCH_STEPS;
  for (const start of nodes) {
    const path = [start];
    const dfs = (node: string): void => {
      for (const nxt of next.get(node) ?? []) {
        if (steps-- <= 0) return;
        if (nxt === start && path.length >= 2) out.push([...path]);
        else if (nxt > start && !path.includes(nxt) && path.length < maxLen && out.length < 100) {
          path.push(nxt);
          dfs(nxt);
          path.pop();
        }
      }
    };
    dfs(start);
  }
  return out;
}

/**
 * One nesting per edge such that two threads differ, each waits for a hold that excludes it (a
 * reader waiting for a lock another thread holds as a reader is let in), and no gate lock is
 * common to all — a gate held in shared mode by more than one of them lets them in together.
 */
function chooseInstances(cycle: string[], edges: Map<string, Map<string, OrderEdge[]>>): OrderEdge[] | null {
  const options = cycle.map((a, i) => edges.get(a)!.get(cycle[(i + 1) % cycle.length]!)!);
  const pick: OrderEdge[] = [];
  let budget = 10000;
  const ok = (): boolean => {
    if (new Set(pick.map((p) => p.thread)).size < 2) return false;
    if (pick.some((p, i) => p.sharedB && pick[(i + 1) % pick.length]!.sharedA)) return false;
    const bare = (g: string): string => (g.endsWith('/r') ? g.slice(0, -2) : g);
    const common = pick.slice(1).reduce((acc, p) => acc.filter((g) => p.gates.some((x) => bare(x) === g)), pick[0]!.gates.map(bare));
    return !common.some((g) => pick.filter((p) => p.gates.includes(`${g}/r`)).length <= 1);
  };
  const search = (i: number): boolean => {
    if (budget-- <= 0) return false;
    if (i === options.length) return ok();
    for (const o of options[i]!) {
      pick.push(o);
      if (search(i + 1)) return true;
      pick.pop();
    }
    return false;
  };
  return search(0) ? pick : null;
}

function orderReport(cycle: string[], chosen: OrderEdge[], index: RunIndex): DeadlockReport {
  const sites: Site[] = [];
  const parts: string[] = [];
  chosen.forEach((e, i) => {
    const a = cycle[i]!;
    const b = cycle[(i + 1) % cycle.length]!;
    const sa = index.site(e.thread, e.siteA);
    const sb = index.site(e.thread, e.siteB);
    const ra = siteRow(e.thread.id, sa, `holds ${a}`);
    const rb = siteRow(e.thread.id, sb, `acquires ${b}`);
    if (ra) sites.push(ra);
    if (rb) sites.push(rb);
    parts.push(`thread ${e.thread.id} takes lock ${lockName(a, index)} (at ${where(sa)}) then lock ${lockName(b, index)} (at ${where(sb)})`);
  });
  const threadIds = [...new Set(chosen.map((e) => e.thread.id))].sort((x, y) => x - y);
  return {
    kind: 'lock-order',
    threadIds,
    locks: cycle,
    message: `Lock-order inversion: ${parts.join('; ')}. Scheduled differently, these threads deadlock; take the locks in one global order.`,
    sites,
  };
}
