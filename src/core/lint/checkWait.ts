/** Rules around Atomics.wait: wait-on-main-thread, wait-without-loop, unlock-without-notify. */
import { forEachChild, isFunction, isLoop, unwrap, type Node } from './ast';
import { AliasIndex, type LintContext } from './context';
import { notifyFix, waitLoopFix } from './fixes';
import { ownerOf, type AtomicsCall, type CallSite, type ElementAccess, type Site, type ThreadSide } from './model';
import { findWithin, groupBy } from './ranges';
import { lowerBound } from '../search';

/** The facts of a file the wait rules look up by name, array, text or place, gathered once. */
interface WaitFacts {
  callsByName: Map<string, CallSite[]>;
  /** Atomics calls other than wait, by array key. */
  nonWaits: Map<string, number>;
  /** Atomics calls by the text of their array. */
  atomicsByText: Map<string, AtomicsCall[]>;
  /** Plain element accesses by array key ('' for none). */
  accessesByKey: Map<string, ElementAccess[]>;
  /** The outermost loops that re-test a condition, by the function they sit in, in source order. */
  retestingLoops: Map<Node, Node[]>;
}

/** Runs the wait rules. */
export function checkWaits(cx: LintContext): void {
  const m = cx.m;
  const waits = m.atomics.filter((c) => c.op === 'wait');
  const sideMemo = new Map<Node, ThreadSide>();
  const callsByName = groupBy(m.calls, (c) => c.name);
  const nonWaits = new Map<string, number>();
  for (const [k, list] of cx.atomicsByKey) nonWaits.set(k, list.filter((c) => c.op !== 'wait').length);
  const retestingLoops = new Map<Node, Node[]>();
  for (const l of m.allLoops) {
    if (!retests(l.node)) continue;
    const list = retestingLoops.get(l.owner) ?? retestingLoops.set(l.owner, []).get(l.owner)!;
    const last = list[list.length - 1];
    if (!last || l.node.start >= last.end) list.push(l.node);
  }
  const facts: WaitFacts = {
    callsByName, nonWaits, retestingLoops,
    atomicsByText: groupBy(m.atomics, (c) => arrayText(cx, c)),
    accessesByKey: groupBy(m.accesses, (a) => cx.arrayKey(a.array) ?? ''),
  };

  /** Which thread a site runs on: its isMainThread branch, else the branch its function is called from. */
  const sideOf = (s: Site, depth = 0): ThreadSide => {
    if (s.side) return s.side;
    const owner = ownerOf(m, s);
    if (owner !== m.program && depth < 3) {
      if (sideMemo.has(owner)) return sideMemo.get(owner) ?? null;
      sideMemo.set(owner, null);
      const name = m.fns.get(owner)?.name;
      const calls = name ? (callsByName.get(name) ?? []).filter((c) => !c.fns.includes(owner)) : [];
      const sides = new Set(calls.map((c) => sideOf(c, depth + 1)));
      const side = sides.size === 1 ? ([...sides][0] ?? null) : null;
      if (side) {
        sideMemo.set(owner, side);
        return side;
      }
    }
    // A file that starts workers and never asks which thread it is on runs on the main thread, unless it reads
    // its own workerData / parentPort (a worker that starts workers of its own).
    return m.workerSpawns.length > 0 && !m.checksMainThread && !m.usesWorkerApi ? 'main' : null;
  };

  // `await Atomics.waitAsync(…).value;` as a statement is the async form of a bare wait and can return as early.
  const bare = [...waits, ...m.atomics.filter((c) => c.op === 'waitAsync' && awaitedStatement(c))].sort((a, b) => a.node.start - b.node.start);
  for (const w of bare) {
    if (w.op === 'wait' && sideOf(w) === 'main') cx.report('wait-on-main-thread', w.node, {});
    // A wait whose result ('ok' / 'not-equal' / 'timed-out') is used is inspected deliberately.
    if (isSleep(cx, facts, w) || !resultUnused(w) || (waitsForChange(cx, w) && (polls(cx, w) || uncalled(cx, facts, w)))) continue;
    if (!rechecked(cx, facts, w)) {
      const stmt = w.op === 'wait' ? cx.statementParent(w)?.stmt : awaitedStatement(w);
      cx.report('wait-without-loop', w.node, { op: w.op, a: cx.text(w.args[0] ?? null), i: cx.text(w.args[1] ?? null) }, { fix: stmt ? waitLoopFix(cx, w, stmt) : null });
    }
  }

  // Functions that notify (by name), so `Atomics.add(sem, 0, 1); wake();` counts as notified.
  const notifiesIn = new Map<string, AtomicsCall[]>();
  for (const n of m.atomics) {
    const name = n.op === 'notify' ? m.fns.get(ownerOf(m, n))?.name : null;
    if (name) (notifiesIn.get(name) ?? notifiesIn.set(name, []).get(name)!).push(n);
  }
  const wakes = (n: AtomicsCall, s: AtomicsCall): boolean => sameArray(cx, n, s) && cx.mayAlias(n.index, s.index) && cx.constNumber(n.args[2] ?? null) !== 0;

  // Waits that can miss a wake-up, by cell (array binding or text, and index). A waiter that polls with a short
  // timeout is woken by its timer: a missing notify costs latency there, not a hang.
  const cellKeys = (c: AtomicsCall): string[] => {
    const idx = cx.indexKey(c.index);
    const k = cx.arrayKey(c.array);
    const t = `t:${arrayText(cx, c)}[${idx}]`;
    return k ? [`k:${k}[${idx}]`, t] : [t];
  };
  // A waitAsync sleeper (the main thread awaiting a worker) is lost the same way as a blocked wait.
  const sleepers = m.atomics.filter((c) => c.op === 'wait' || c.op === 'waitAsync');
  const waitsByCell = new Map<string, AtomicsCall[]>();
  for (const w of sleepers) {
    if (isSleep(cx, facts, w) || polls(cx, w)) continue;
    for (const key of cellKeys(w)) (waitsByCell.get(key) ?? waitsByCell.set(key, []).get(key)!).push(w);
  }
  // What the loop below asks of every write, looked up by function and cell instead of scanned for: the sleepers
  // and notifies of each function by cell (or array), the last worker each function starts, the functions that
  // notify called from each function, the cells some code takes with compareExchange.
  const byOwnerAndKeys = <T extends Site>(list: T[], keys: (x: T) => string[]): Map<Node, Map<string, T[]>> => {
    const out = new Map<Node, Map<string, T[]>>();
    for (const x of list) {
      const owner = ownerOf(m, x);
      const byKey = out.get(owner) ?? out.set(owner, new Map()).get(owner)!;
      for (const key of keys(x)) (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(x);
    }
    return out;
  };
  const sleepersAt = byOwnerAndKeys(sleepers, cellKeys);
  const arrayKeys = (c: AtomicsCall): string[] => {
    const k = cx.arrayKey(c.array);
    const t = `t:${arrayText(cx, c)}`;
    return k ? [`k:${k}`, t] : [t];
  };
  const notifiesOn = byOwnerAndKeys(m.atomics.filter((n) => n.op === 'notify' && cx.constNumber(n.args[2] ?? null) !== 0), arrayKeys);
  const notifyIndex = new Map<AtomicsCall[], AliasIndex>();
  const lastSpawn = new Map<Node, number>();
  for (const sp of m.workerSpawns) {
    const owner = m.spawnOwners.get(sp) ?? m.program;
    lastSpawn.set(owner, Math.max(lastSpawn.get(owner) ?? -1, sp.start));
  }
  const notifyingCalls = new Map<Node, Map<string, number>>();
  for (const c of m.calls) {
    if (!c.name || !notifiesIn.has(c.name)) continue;
    const owner = ownerOf(m, c);
    const last = notifyingCalls.get(owner) ?? notifyingCalls.set(owner, new Map()).get(owner)!;
    last.set(c.name, Math.max(last.get(c.name) ?? -1, c.node.start));
  }
  // The first waiter on a cell that a write wakes: a store wakes those sleeping on another value, a sub those
  // sleeping on a value other than 0, anything else the first. Per cell, the first waiter on a value other than
  // the first one's and the first on a value other than 0 answer that without a scan.
  const waitedText = (w: AtomicsCall): string => cx.text(unwrap(w.args[2]));
  const firsts = new Map<AtomicsCall[], { otherValue?: AtomicsCall; nonZero?: AtomicsCall }>();
  const firstWoken = (list: AtomicsCall[] | undefined, s: AtomicsCall): AtomicsCall | undefined => {
    const head = list?.[0];
    if (!list || !head) return undefined;
    let f = firsts.get(list);
    if (!f) {
      f = { otherValue: list.find((w) => waitedText(w) !== waitedText(head)), nonZero: list.find((w) => cx.constNumber(w.args[2] ?? null) !== 0) };
      firsts.set(list, f);
    }
    if (STORES.has(s.op)) return waitedText(head) !== cx.text(unwrap(s.args[2])) ? head : f.otherValue;
    return s.op === 'sub' ? f.nonZero : head;
  };
  const casCells = new Set(m.atomics.filter((c) => c.op === 'compareExchange').flatMap(cellKeys));

  // Lost wake-ups: a write that changes a cell some thread waits on, with no notify of that cell after it.
  for (const s of waitsByCell.size ? m.atomics : []) {
    // An unlock is a write whose result nobody reads; an exchange whose old value is used is an acquire,
    // an add whose old value is used is a ticket or a count the caller acts on.
    if (!WRITES.has(s.op) || !resultUnused(s) || !changes(cx, s)) continue;
    // Waiters sleeping while a count is 0 need a wake-up from the add that makes it positive, not from a take (sub).
    let waiter: AtomicsCall | undefined;
    for (const key of cellKeys(s)) waiter ??= firstWoken(waitsByCell.get(key), s);
    if (!waiter) continue;
    const owner = ownerOf(m, s);
    // A write followed by this function's own wait on the cell is part of an acquire (give a permit back, then sleep):
    // the thread itself re-checks right after.
    const block = [...s.ancestors].reverse().find((a) => a.type === 'BlockStatement' || a.type === 'Program' || a.type === 'SwitchCase') ?? m.program;
    const ownSleepers = sleepersAt.get(owner);
    if (ownSleepers && cellKeys(s).some((key) => findWithin(ownSleepers.get(key) ?? [], s.node.end + 1, block.end, () => true))) continue;
    // Set-up before the function starts a worker, or in a constructor: nobody can be waiting yet.
    if ((lastSpawn.get(owner) ?? -1) > s.node.end) continue;
    if (owner.type === 'ClassMethod' && owner.kind === 'constructor') continue;
    const ownNotifies = notifiesOn.get(owner);
    const notifiedHere = !!ownNotifies && arrayKeys(s).some((key) => {
      const list = ownNotifies.get(key);
      if (!list) return false;
      const idx = notifyIndex.get(list) ?? notifyIndex.set(list, new AliasIndex(cx, list)).get(list)!;
      return idx.first(s.index, undefined, s.node.start) !== undefined;
    });
    const notified = notifiedHere ||
      [...(notifyingCalls.get(owner) ?? [])].some(([name, last]) => last > s.node.start && (notifiesIn.get(name) ?? []).some((n) => wakes(n, s)));
    if (notified) continue;
    const locked = STORES.has(s.op) && cellKeys(s).some((key) => casCells.has(key));
    const sp = cx.statementParent(s);
    const arr = cx.text(s.args[0] ?? null);
    const idx = cx.text(s.args[1] ?? null);
    cx.report('unlock-without-notify', s.node, { a: arr, i: idx, op: s.op, wait: waiter.op }, {
      related: [cx.related(waiter.node, `a thread waits on ${cx.text(waiter.args[0] ?? null)}[${cx.text(waiter.args[1] ?? null)}] here`)],
      fix: sp ? notifyFix(cx, sp.stmt, arr, idx, locked ? '1' : null) : null,
    });
  }
}

const STORES = new Set(['store', 'exchange']);
const WRITES = new Set(['store', 'exchange', 'add', 'sub', 'and', 'or', 'xor']);

/** False for read-modify-writes that leave the cell as it was (`add(a, i, 0)`, `and(a, i, -1)`). */
function changes(cx: LintContext, s: AtomicsCall): boolean {
  if (STORES.has(s.op)) return true;
  const v = cx.constNumber(s.args[2] ?? null);
  return s.op === 'and' ? v !== -1 : v !== 0;
}

/** A timed wait with a short timeout (≤ 1 s: a constant, or `Math.min(x, 10)`): the waiter polls. */
function polls(cx: LintContext, w: AtomicsCall): boolean {
  const t = upperBound(cx, w.args[3] ?? null);
  return t !== null && t <= 1000;
}

/** An upper bound of a number: a constant, or the least bound among the arguments of `Math.min(…)`. */
function upperBound(cx: LintContext, n: Node | null): number | null {
  const e = unwrap(n);
  const c = cx.constNumber(e);
  if (c !== null || !e || e.type !== 'CallExpression' || cx.text(e.callee as Node).replace(/\s+/g, '') !== 'Math.min') return c;
  const bounds = ((e.arguments as Node[]) ?? []).map((a) => upperBound(cx, a)).filter((b): b is number => b !== null);
  return bounds.length ? Math.min(...bounds) : null;
}

/**
 * `Atomics.wait(a, i, Atomics.load(a, i))`, or a wait on a value loaded from the cell just before (`seq = load;
 * unlock(); wait(a, i, seq)`): a wait for any change of the cell, the primitive a condition variable or a
 * polling nap is built from. In a function nothing here calls (a library's `cond.wait(guard)`), or with a short
 * timeout, what has changed is its caller's to check; a barrier the file itself calls once is still flagged.
 */
function waitsForChange(cx: LintContext, w: AtomicsCall): boolean {
  let v = unwrap(w.args[2] ?? null);
  if (v?.type === 'Identifier') {
    const b = cx.m.refs.get(v);
    v = b && b.kind === 'const' && b.path.length === 0 ? unwrap(b.init) : null;
  }
  const load = v ? cx.m.atomics.find((c) => c.node === v && c.op === 'load') : undefined;
  return !!load && sameArray(cx, load, w) && cx.indexKey(load.index) === cx.indexKey(w.index);
}

/** True when the call is a statement of its own (its value is discarded), or `await Atomics.waitAsync(…).value;`. */
function resultUnused(c: AtomicsCall): boolean {
  const parent = c.ancestors[c.ancestors.length - 1];
  return parent?.type === 'ExpressionStatement' || (c.op === 'waitAsync' && !!awaitedStatement(c));
}

/**
 * The statement of `await Atomics.waitAsync(…).value;` in a block (its outcome discarded), else null.
 * The call's ancestors end with the statement, the await and the `.value` member.
 */
function awaitedStatement(c: AtomicsCall): Node | null {
  const a = c.ancestors;
  const [list, stmt, aw, mem] = [a[a.length - 4], a[a.length - 3], a[a.length - 2], a[a.length - 1]];
  if (mem?.type !== 'MemberExpression' || mem.computed || mem.object !== c.node || mem.property?.name !== 'value') return null;
  if (aw?.type !== 'AwaitExpression' || stmt?.type !== 'ExpressionStatement' || !list) return null;
  return list.type === 'BlockStatement' || list.type === 'Program' || list.type === 'SwitchCase' ? stmt : null;
}

/**
 * The `sleep(ms)` idiom: a timed wait on a fresh array, or on one nothing else in the file touches.
 * A wait without a timeout is never a sleep (it would sleep forever): its notifier is elsewhere.
 */
function isSleep(cx: LintContext, facts: WaitFacts, w: AtomicsCall): boolean {
  const arr = unwrap(w.array);
  if (!arr) return false;
  if (arr.type === 'NewExpression') return true;
  const timeout = unwrap(w.args[3]);
  if (!timeout || (timeout.type === 'Identifier' && timeout.name === 'Infinity') || (timeout.type === 'Identifier' && timeout.name === 'undefined')) return false;
  // Nothing but waits on the array, apart from this call.
  const key = cx.arrayKey(arr);
  return !key || (facts.nonWaits.get(key) ?? 0) - (w.op !== 'wait' ? 1 : 0) <= 0;
}

/** True for a loop that tests a condition each time round (not `while (true)` / `for (;;)` / `for…of`). */
function retests(loop: Node): boolean {
  const test = unwrap(loop.test as Node | null);
  if (!test || (loop.type !== 'WhileStatement' && loop.type !== 'DoWhileStatement' && loop.type !== 'ForStatement')) return false;
  return !(test.type === 'BooleanLiteral' && test.value === true) && !(test.type === 'NumericLiteral' && test.value !== 0);
}

/**
 * True when an enclosing loop (in the same function) touches the waited array again or re-tests
 * some condition, or the wait sits in a helper (a condition-variable wait) whose every call is
 * inside such a loop of its caller.
 */
function rechecked(cx: LintContext, facts: WaitFacts, w: AtomicsCall): boolean {
  if (recheckedHere(cx, facts, w)) return true;
  const m = cx.m;
  const owner = ownerOf(m, w);
  const name = owner === m.program ? null : m.fns.get(owner)?.name;
  if (!name) return false;
  const calls = (facts.callsByName.get(name) ?? []).filter((c) => !c.fns.includes(owner));
  return calls.length > 0 && calls.every((c) => {
    // The outermost re-testing loops of a function are disjoint: only the last one starting before the call can hold it.
    const loops = facts.retestingLoops.get(ownerOf(m, c)) ?? [];
    const l = loops[lowerBound(loops.length, (k) => loops[k]!.start > c.node.start) - 1];
    return !!l && c.node.end <= l.end;
  });
}

function recheckedHere(cx: LintContext, facts: WaitFacts, w: AtomicsCall): boolean {
  const key = cx.arrayKey(w.array);
  const sameText = facts.atomicsByText.get(arrayText(cx, w)) ?? [];
  const accesses = facts.accessesByKey.get(key ?? '') ?? [];
  const other = (c: AtomicsCall): boolean => c !== w;
  for (const loop of w.loops) {
    if (findWithin(cx.atomicsOn(key), loop.start, loop.end, other)) return true;
    if (findWithin(sameText, loop.start, loop.end, other)) return true;
    if (findWithin(accesses, loop.start, loop.end, () => true)) return true;
    // A loop whose condition is some other flag or call still re-checks something.
    if ((loop.type === 'WhileStatement' || loop.type === 'DoWhileStatement') && retests(loop)) return true;
    // `while (true) { if (tryLock()) return; Atomics.wait(…); }`: the loop's way out is a test.
    if (exitsOnTest(loop.body as Node)) return true;
  }
  return false;
}

/** True when a loop body leaves the loop (`return`, `break`) from an `if` of its own, outside nested functions and loops. */
function exitsOnTest(body: Node | null): boolean {
  let found = false;
  const exits = (n: Node | null): boolean => {
    const e = n?.type === 'BlockStatement' ? (n.body as Node[])[(n.body as Node[]).length - 1] : n;
    return e?.type === 'ReturnStatement' || (e?.type === 'BreakStatement' && !e.label);
  };
  const visit = (n: Node): void => {
    if (found || isFunction(n) || isLoop(n) || n.type === 'SwitchStatement') return;
    if (n.type === 'IfStatement' && (exits(n.consequent as Node) || exits(n.alternate as Node | null))) {
      found = true;
      return;
    }
    forEachChild(n, visit);
  };
  if (body) visit(body);
  return found;
}

/** Same array: the same binding, or the same text. */
function sameArray(cx: LintContext, a: AtomicsCall, b: AtomicsCall): boolean {
  const ka = cx.arrayKey(a.array);
  if (ka && ka === cx.arrayKey(b.array)) return true;
  return arrayText(cx, a) === arrayText(cx, b);
}

/** The text of a call's array without white space. */
function arrayText(cx: LintContext, c: AtomicsCall): string {
  return cx.text(c.array).replace(/\s+/g, '');
}

/** True when the wait sits in a named function that no code in this file calls: an API for other modules. */
function uncalled(cx: LintContext, facts: WaitFacts, w: AtomicsCall): boolean {
  const owner = ownerOf(cx.m, w);
  const name = owner === cx.m.program ? null : cx.m.fns.get(owner)?.name;
  return !!name && !(facts.callsByName.get(name) ?? []).some((c) => !c.fns.includes(owner));
}
