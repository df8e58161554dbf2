/** Rules around Atomics.wait: wait-on-main-thread, wait-without-loop, unlock-without-notify. */
import { unwrap, type Node } from './ast';
import type { LintContext } from './context';
import { notifyFix, waitLoopFix } from './fixes';
import { ownerOf, type AtomicsCall, type FileModel, type Site, type ThreadSide } from './model';

/** Runs the wait rules. */
export function checkWaits(cx: LintContext): void {
  const m = cx.m;
  const waits = m.atomics.filter((c) => c.op === 'wait');
  const sideMemo = new Map<Node, ThreadSide>();
  const callsByName = new Map<string, Site[]>();
  for (const c of m.calls) if (c.name) (callsByName.get(c.name) ?? callsByName.set(c.name, []).get(c.name)!).push(c);

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

  for (const w of waits) {
    if (sideOf(w) === 'main') cx.report('wait-on-main-thread', w.node, {});
    // A wait whose result ('ok' / 'not-equal' / 'timed-out') is used is inspected deliberately.
    if (isSleep(cx, w) || !resultUnused(w)) continue;
    if (!rechecked(cx, w)) {
      const sp = cx.statementParent(w);
      cx.report('wait-without-loop', w.node, { a: cx.text(w.args[0] ?? null), i: cx.text(w.args[1] ?? null) }, { fix: sp ? waitLoopFix(cx, w, sp.stmt) : null });
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
    const t = `t:${cx.text(c.array).replace(/\s+/g, '')}[${idx}]`;
    return k ? [`k:${k}[${idx}]`, t] : [t];
  };
  // A waitAsync sleeper (the main thread awaiting a worker) is lost the same way as a blocked wait.
  const sleepers = m.atomics.filter((c) => c.op === 'wait' || c.op === 'waitAsync');
  const waitsByCell = new Map<string, AtomicsCall[]>();
  for (const w of sleepers) {
    if (isSleep(cx, w) || polls(cx, w)) continue;
    for (const key of cellKeys(w)) (waitsByCell.get(key) ?? waitsByCell.set(key, []).get(key)!).push(w);
  }

  // Lost wake-ups: a write that changes a cell some thread waits on, with no notify of that cell after it.
  for (const s of waitsByCell.size ? m.atomics : []) {
    // An unlock is a write whose result nobody reads; an exchange whose old value is used is an acquire,
    // an add whose old value is used is a ticket or a count the caller acts on.
    if (!WRITES.has(s.op) || !resultUnused(s) || !changes(cx, s)) continue;
    // Waiters sleeping while a count is 0 need a wake-up from the add that makes it positive, not from a take (sub).
    const candidates = cellKeys(s).flatMap((key) => waitsByCell.get(key) ?? []);
    const waiter = candidates.find((w) => (!STORES.has(s.op) || cx.text(unwrap(w.args[2])) !== cx.text(unwrap(s.args[2]))) &&
      !(s.op === 'sub' && cx.constNumber(w.args[2] ?? null) === 0));
    if (!waiter) continue;
    const owner = ownerOf(m, s);
    // A write followed by this function's own wait on the cell is part of an acquire (give a permit back, then sleep):
    // the thread itself re-checks right after.
    const block = [...s.ancestors].reverse().find((a) => a.type === 'BlockStatement' || a.type === 'Program' || a.type === 'SwitchCase') ?? m.program;
    if (sleepers.some((w) => ownerOf(m, w) === owner && w.node.start > s.node.end && w.node.end <= block.end && sameCell(cx, w, s))) continue;
    // Set-up before the function starts its first worker, or in a constructor: nobody can be waiting yet.
    if (m.workerSpawns.some((sp) => sp.start > s.node.end && innermost(m, sp.start) === owner)) continue;
    if (owner.type === 'ClassMethod' && owner.kind === 'constructor') continue;
    const notified = m.atomics.some((n) => n.op === 'notify' && ownerOf(m, n) === owner && n.node.start > s.node.start && wakes(n, s)) ||
      m.calls.some((c) => c.name && c.node.start > s.node.start && ownerOf(m, c) === owner && (notifiesIn.get(c.name) ?? []).some((n) => wakes(n, s)));
    if (notified) continue;
    const locked = STORES.has(s.op) && m.atomics.some((c) => c.op === 'compareExchange' && sameCell(cx, c, s));
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

/** A timed wait with a short constant timeout (≤ 1 s): the waiter polls. */
function polls(cx: LintContext, w: AtomicsCall): boolean {
  const t = cx.constNumber(w.args[3] ?? null);
  return t !== null && t <= 1000;
}

/** True when the call is a statement of its own (its value is discarded). */
function resultUnused(c: AtomicsCall): boolean {
  const parent = c.ancestors[c.ancestors.length - 1];
  return parent?.type === 'ExpressionStatement';
}

/**
 * The `sleep(ms)` idiom: a timed wait on a fresh array, or on one nothing else in the file touches.
 * A wait without a timeout is never a sleep (it would sleep forever): its notifier is elsewhere.
 */
function isSleep(cx: LintContext, w: AtomicsCall): boolean {
  const arr = unwrap(w.array);
  if (!arr) return false;
  if (arr.type === 'NewExpression') return true;
  const timeout = unwrap(w.args[3]);
  if (!timeout || (timeout.type === 'Identifier' && timeout.name === 'Infinity') || (timeout.type === 'Identifier' && timeout.name === 'undefined')) return false;
  const key = cx.arrayKey(arr);
  return !cx.atomicsOn(key).some((c) => c !== w && c.op !== 'wait');
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
function rechecked(cx: LintContext, w: AtomicsCall): boolean {
  if (recheckedHere(cx, w)) return true;
  const m = cx.m;
  const owner = ownerOf(m, w);
  const name = owner === m.program ? null : m.fns.get(owner)?.name;
  if (!name) return false;
  const calls = m.calls.filter((c) => c.name === name && !c.fns.includes(owner));
  return calls.length > 0 && calls.every((c) => m.allLoops.some((l) => l.owner === ownerOf(m, c) && l.node.start <= c.node.start && c.node.end <= l.node.end && retests(l.node)));
}

function recheckedHere(cx: LintContext, w: AtomicsCall): boolean {
  const key = cx.arrayKey(w.array);
  const text = cx.text(w.array).replace(/\s+/g, '');
  for (const loop of w.loops) {
    const inLoop = (n: Node): boolean => n.start >= loop.start && n.end <= loop.end;
    if (cx.atomicsOn(key).some((c) => c !== w && inLoop(c.node))) return true;
    if (cx.m.atomics.some((c) => c !== w && inLoop(c.node) && cx.text(c.array).replace(/\s+/g, '') === text)) return true;
    if (cx.m.accesses.some((a) => inLoop(a.node) && cx.arrayKey(a.array) === key)) return true;
    // A loop whose condition is some other flag or call still re-checks something.
    if ((loop.type === 'WhileStatement' || loop.type === 'DoWhileStatement') && retests(loop)) return true;
  }
  return false;
}

/** Same array (binding or text) and same index. */
function sameCell(cx: LintContext, a: AtomicsCall, b: AtomicsCall): boolean {
  return sameArray(cx, a, b) && cx.indexKey(a.index) === cx.indexKey(b.index);
}

function sameArray(cx: LintContext, a: AtomicsCall, b: AtomicsCall): boolean {
  const ka = cx.arrayKey(a.array);
  if (ka && ka === cx.arrayKey(b.array)) return true;
  return cx.text(a.array).replace(/\s+/g, '') === cx.text(b.array).replace(/\s+/g, '');
}

/** The innermost function (or the program) around an offset. */
function innermost(m: FileModel, pos: number): Node {
  let best: Node = m.program;
  for (const f of m.fns.keys()) if (f.start <= pos && pos < f.end && f.start >= best.start) best = f;
  return best;
}
