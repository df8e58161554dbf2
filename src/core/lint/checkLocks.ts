/** Lock-shaped rules: check-then-act, spin-without-backoff, lock-without-release. */
import { isMember, literalNumber, unwrap, type Node } from './ast';
import type { LintContext } from './context';
import { casFix } from './fixes';
import type { LockModel } from './locks';
import { ownerOf, type AtomicsCall, type CallSite, type FileModel, type Site } from './model';
import { anyOffsetWithin, filterWithin, findAfter, findStarting, findWithin, groupBy } from './ranges';
import { lowerBound } from '../search';

const PURE_CALLEES = /^(Math|Atomics|console|Number|String|Boolean|BigInt|Object\.is|Array\.isArray|Date\.now|performance\.now)\b/;

/** Runs the lock-shaped rules. */
export function checkLocks(cx: LintContext, locks: LockModel): void {
  checkThenAct(cx, locks);
  spinWithoutBackoff(cx);
  lockWithoutRelease(cx, locks);
}

function cellOf(cx: LintContext, c: AtomicsCall): string {
  return cx.cellOf(c);
}

/** One load-then-store site: the cell, the value it checks for and the value it stores. */
interface CheckThenAct {
  load: AtomicsCall;
  store: AtomicsCall;
  stmt: Node;
  holder: Node;
  expected: Node;
  cell: string;
  /** False where folding the store into a compareExchange would change what the code does. */
  foldable: boolean;
}

const RELATIONAL = new Set(['<', '<=', '>', '>=']);

function checkThenAct(cx: LintContext, locks: LockModel): void {
  const acts = new Map<Node, AtomicsCall>();
  for (const c of cx.m.atomics) if (c.op === 'store' || c.op === 'sub' || c.op === 'add') acts.set(c.node, c);
  const found: CheckThenAct[] = [];
  const flags = new FlagCells(cx);
  /** The Atomics store/sub/add of `cell` that a statement is, if any. */
  const actOf = (st: Node | undefined, cell: string): AtomicsCall | undefined => {
    const a = st?.type === 'ExpressionStatement' ? acts.get(unwrap(st.expression as Node)!) : undefined;
    return a && cellOf(cx, a) === cell ? a : undefined;
  };
  for (const load of cx.m.atomics) {
    // The body of a lock helper is where a check-then-act acquire hides: only a held lock excuses it.
    if (load.op !== 'load' || locks.guarded(load, 0, false)) continue;
    const anc = load.ancestors;
    const cmp = anc[anc.length - 1];
    const holder = anc[anc.length - 2];
    const cellText = `${cx.text(load.array).replace(/\s+/g, '')}[${cx.indexKey(load.index)}]`;
    if (cmp?.type === 'SwitchStatement' && unwrap(cmp.discriminant as Node) === load.node) {
      // `switch (Atomics.load(a, i)) { case E: Atomics.store(a, i, V); … }` claims E like `if (load === E) store(V)`.
      const cases = (cmp.cases as Node[]) ?? [];
      const claims = cases.flatMap((sc, k) => {
        const list = (sc.consequent as Node[]) ?? [];
        const st = list.find((x) => actOf(x, cellOf(cx, load))?.op === 'store');
        if (!sc.test || !st) return [];
        // The store must run first in its case, and no case may fall into this one.
        const prev = k > 0 ? ((cases[k - 1]!.consequent as Node[]) ?? []) : [];
        const last = prev[prev.length - 1];
        const entered = k === 0 || (!!last && /^(Break|Return|Throw|Continue)Statement$/.test(last.type));
        return [{ load, store: actOf(st, cellOf(cx, load))!, stmt: st, holder: cmp, expected: sc.test as Node, cell: cellText, foldable: entered && list[0] === st }];
      });
      found.push(...claims.map((c) => ({ ...c, foldable: c.foldable && claims.length === 1 })));
      continue;
    }
    if (!cmp || !holder || cmp.type !== 'BinaryExpression' || holder.test !== cmp) continue;
    const op = String(cmp.operator);
    const eq = op === '===' || op === '==';
    const ne = op === '!==' || op === '!=';
    if (!eq && !ne && !RELATIONAL.has(op)) continue;
    const expected = (unwrap(cmp.left as Node) === load.node ? cmp.right : cmp.left) as Node;
    const cell = cellOf(cx, load);
    let store: AtomicsCall | undefined;
    let stmt: Node | undefined;
    if (holder.type === 'IfStatement') {
      // `if (load === E) store(V)` claims E; `if (load > 0) sub(…)` / `if (load !== 0) sub(…)` takes from a count.
      const cons = holder.consequent as Node;
      const list = cons.type === 'BlockStatement' ? (cons.body as Node[]) : [cons];
      if (eq && !holder.alternate && raisesFlag(cx, flags, list, load)) continue;
      for (const st of list) {
        const a = actOf(st, cell);
        if (a && (a.op === 'store' ? eq : !eq)) {
          store = a;
          stmt = st;
          break;
        }
      }
    } else if (holder.type === 'WhileStatement') {
      const parent = anc[anc.length - 3];
      const list = (parent?.body as Node[] | undefined) ?? (parent?.consequent as Node[] | undefined);
      const next = Array.isArray(list) ? list[list.indexOf(holder) + 1] : undefined;
      const a = actOf(next, cell);
      // `while (load !== E) …; store(V)` claims E; `while (load === 0) …; sub(…)` takes from a count. Waiting for an
      // exact value and then adding (`while (load !== me) …; add(…)`) passes a turn on: only one thread holds it.
      if (a && (a.op === 'store' ? ne && claims(cx, holder, load, a) : !ne)) {
        store = a;
        stmt = next;
      }
    }
    if (!store || !stmt) continue;
    if (store.op === 'sub' && soleTaker(cx, store)) continue;
    found.push({ load, store, stmt, holder, expected, cell: cellText, foldable: true });
  }
  const valueText = (n: Node | null | undefined): string => cx.text(unwrap(n)).replace(/\s+/g, '');
  // `Atomics.compareExchange(l, 0, 0, 1);` as a statement, then `Atomics.store(l, 0, 0)` in the same function: a lock
  // taken without looking whether the swap happened. (A lone transition such as `CAS(state, 0, RUNNING, CANCELLED)`
  // that nothing gives back may fail harmlessly.)
  const stores = byOwner(cx.m, cx.m.atomics.filter((r) => r.op === 'store'));
  const storesByCell = new Map<AtomicsCall[], Map<string, AtomicsCall[]>>();
  for (const c of cx.m.atomics) {
    if (c.op !== 'compareExchange' || c.ancestors[c.ancestors.length - 1]?.type !== 'ExpressionStatement' || locks.guarded(c, 0, false)) continue;
    const own = stores.get(ownerOf(cx.m, c)) ?? [];
    const byCell = storesByCell.get(own) ?? storesByCell.set(own, groupBy(own, (r) => cellOf(cx, r))).get(own)!;
    const giveBack = findAfter(byCell.get(cellOf(cx, c)) ?? [], c.node.end, (r) => valueText(r.args[2]) === valueText(c.args[2]));
    if (!giveBack) continue;
    const what = `This Atomics.compareExchange on ${cx.text(c.args[0] ?? null)}[${cx.text(c.args[1] ?? null)}] fails while another thread holds the cell, but its result is ignored and the code after it runs anyway`;
    cx.report('check-then-act', c.node, { what }, {
      related: [cx.related(giveBack.node, 'the store that gives back what may never have been taken')],
    });
  }
  // Claims that store, by cell, the value they check for and the value they store.
  const turns = groupBy(found, (f) => (f.store.op === 'store' ? `${f.cell}\0${valueText(f.expected)}\0${valueText(f.store.args[2])}` : null));
  for (const { load, store, stmt, holder, expected, cell, foldable } of found) {
    // Turn-taking (A waits for 0 then stores 1, B waits for 1 then stores 0) hands the cell back and forth: no race.
    const handoff = store.op === 'store' && !!turns.get(`${cell}\0${valueText(store.args[2])}\0${valueText(expected)}`)?.some((o) => o.load !== load);
    if (handoff) continue;
    const vars = { a: cx.text(load.args[0] ?? null), i: cx.text(load.args[1] ?? null) };
    const what = `Another thread can change ${vars.a}[${vars.i}] between this Atomics.load and the Atomics.${store.op}`;
    const related = [cx.related(store.node, 'the write that acts on the stale check')];
    if (store.op !== 'store') {
      cx.report('check-then-act', load.node, { what }, { related });
      continue;
    }
    // A lone store as the whole `if` consequent must leave an empty block behind, not nothing.
    if (holder.consequent === stmt && store.args[2]) {
      const call = `Atomics.compareExchange(${vars.a}, ${vars.i}, ${cx.text(expected)}, ${cx.text(store.args[2])})`;
      cx.report('check-then-act', load.node, { what }, { related, fix: { title: 'Use Atomics.compareExchange', edits: [{ start: load.node.start, end: load.node.end, newText: call }, { start: stmt.start, end: stmt.end, newText: '{}' }] } });
      continue;
    }
    // Folding the store into the check moves it before whatever the block did first (an init that the
    // stored value publishes): only offered when the store is the block's first statement.
    const cons = holder.consequent as Node | undefined;
    const first = foldable && (holder.type !== 'IfStatement' || (cons?.type === 'BlockStatement' && (cons.body as Node[])[0] === stmt));
    cx.report('check-then-act', load.node, { what }, { related, fix: first ? casFix(cx, load, store, expected, stmt) : null });
  }
}

/**
 * `if (load(stop, 0) === 0) { store(stop, 0, 1); notify(stop, 0); }`: raising a one-way flag and waking its
 * waiters, where the only value ever written to the cell is that one. Two threads that both pass the check
 * store the same value and both wake the waiters: the same outcome as one, so nothing is claimed twice.
 */
function raisesFlag(cx: LintContext, flags: FlagCells, list: Node[], load: AtomicsCall): boolean {
  if (list.length !== 2) return false;
  const key = cx.arrayKey(load.array);
  const cell = cellOf(cx, load);
  const ours = list.flatMap((st) => {
    const c = st.type === 'ExpressionStatement' ? flags.callAt.get(unwrap(st.expression as Node)!) : undefined;
    return c && key && cx.arrayKey(c.array) === key && cellOf(cx, c) === cell ? [c] : [];
  });
  const store = ours.find((c) => c.op === 'store');
  if (ours.length !== 2 || !store || !ours.some((c) => c.op === 'notify')) return false;
  const value = cx.text(unwrap(store.args[2])).replace(/\s+/g, '');
  // Every other write of the cell stores that same value.
  const writes = flags.writesOf(cell);
  return !writes.other && [...writes.stored].every((v) => v === value);
}

/** For raisesFlag: Atomics calls by node, and per cell what is ever written to it. */
class FlagCells {
  readonly callAt = new Map<Node, AtomicsCall>();
  private cells: Map<string, { other: boolean; stored: Set<string> }> | null = null;

  constructor(private readonly cx: LintContext) {
    for (const c of cx.m.atomics) this.callAt.set(c.node, c);
  }

  /** The values stored to a cell (by text), and whether anything other than a store writes it. */
  writesOf(cell: string): { other: boolean; stored: Set<string> } {
    if (!this.cells) {
      this.cells = new Map();
      for (const c of this.cx.m.atomics) {
        if (c.op === 'load' || c.op === 'wait' || c.op === 'waitAsync' || c.op === 'notify' || !this.cx.arrayKey(c.array)) continue;
        const k = cellOf(this.cx, c);
        const w = this.cells.get(k) ?? this.cells.set(k, { other: false, stored: new Set() }).get(k)!;
        if (c.op === 'store') w.stored.add(this.cx.text(unwrap(c.args[2])).replace(/\s+/g, ''));
        else w.other = true;
      }
    }
    return this.cells.get(cell) ?? { other: false, stored: new Set() };
  }
}

/**
 * For `while (load(a, i) !== E) wait(a, i, X); store(a, i, V)`: true when the store claims the cell the way a
 * lock does — the loop has no wait, or V is the value waiters sleep on (others must wait again). A store of a
 * third value (`while (s !== GO) wait(s, 0, IDLE); store(s, 0, ACK)`) answers a hand-off instead.
 */
function claims(cx: LintContext, loop: Node, load: AtomicsCall, store: AtomicsCall): boolean {
  const waits = filterWithin(cx.m.atomics, loop.start, loop.end, (w) => (w.op === 'wait' || w.op === 'waitAsync') && cellOf(cx, w) === cellOf(cx, load));
  if (!waits.length) return true;
  const v = cx.text(unwrap(store.args[2])).replace(/\s+/g, '');
  return waits.some((w) => cx.text(unwrap(w.args[2])).replace(/\s+/g, '') === v);
}

function spinWithoutBackoff(cx: LintContext): void {
  const m = cx.m;
  const seen = new Set<Node>();
  const awaitOffsets = [...m.awaits.values()].flat().sort((a, b) => a - b);
  for (const c of m.atomics) {
    if ((c.op !== 'compareExchange' && c.op !== 'exchange') || !c.loops.length) continue;
    // A lock is taken by swapping a constant in (`CAS(a, i, 0, 1)`, `exchange(a, i, 1)`); a lock-free update
    // (`CAS(head, 0, old, node)`) retries only when another thread made progress.
    if (cx.constNumber(c.args[2] ?? null) === null) continue;
    const loop = c.loops[c.loops.length - 1]!;
    if (seen.has(loop)) continue;
    // Only an unbounded loop spins: `for (let i = 0; i < n; i++)` and `for…of` try each cell (or a few times) once.
    if (loop.type === 'ForOfStatement' || loop.type === 'ForInStatement' || (loop.type === 'ForStatement' && loop.test && !(c.node.start >= (loop.test as Node).start && c.node.end <= (loop.test as Node).end))) continue;
    const test = loop.test as Node | null;
    const inTest = !!test && c.node.start >= test.start && c.node.end <= test.end;
    const inIfTest = c.ancestors.some((a) => a.type === 'IfStatement' && a.start >= loop.start && c.node.start >= (a.test as Node).start && c.node.end <= (a.test as Node).end);
    if (!inTest && !inIfTest) continue;
    // Waiting on the cell for the value the compareExchange wants (the free value) returns at once while it is held.
    const freeText = c.op === 'compareExchange' ? cx.text(unwrap(c.args[2])).replace(/\s+/g, '') : null;
    const waits = !!findStarting(m.atomics, loop.start, loop.end, (x) => (x.op === 'wait' || x.op === 'waitAsync' || x.op === 'pause') &&
      !(x.op !== 'pause' && freeText !== null && cellOf(cx, x) === cellOf(cx, c) && cx.text(unwrap(x.args[2])).replace(/\s+/g, '') === freeText));
    const calls = !!findStarting(m.calls, loop.start, loop.end, (x) => !PURE_CALLEES.test(cx.text(x.node.callee as Node)));
    // An await anywhere in the loop (in its own function or in one it defines) yields.
    const awaits = anyOffsetWithin(awaitOffsets, loop.start, loop.end);
    const yields = /\byield\b/.test(m.source.slice(loop.start, loop.end));
    if (waits || calls || awaits || yields) continue;
    seen.add(loop);
    cx.report('spin-without-backoff', c.node, { op: c.op });
  }
  for (const c of m.atomics) {
    if (c.op !== 'load' || !c.loops.length) continue;
    // `while (Atomics.load(a, i) === 0) {}`: an unbounded busy-wait for a flag. A bounded spin
    // (`i < 100 && …`) or a loop that does work between the checks is not one; the test loop of a
    // test-and-test-and-set lock is reported once, at its compareExchange.
    const loop = c.loops[c.loops.length - 1]!;
    if (seen.has(loop) || c.loops.some((l) => seen.has(l))) continue;
    if (!(onlyTests(loop.test as Node | null, c.node) && emptyBody(loop.body as Node | null)) && !pollsUntil(loop, c.node)) continue;
    seen.add(loop);
    cx.report('spin-without-backoff', c.node, { op: c.op });
  }
}

/** True when a loop test is just this load (compared with something simple, or negated). */
export function onlyTests(test: Node | null, load: Node): boolean {
  const t = unwrap(test);
  if (!t) return false;
  if (t === load) return true;
  if (t.type === 'UnaryExpression' && t.operator === '!') return unwrap(t.argument as Node) === load;
  if (t.type !== 'BinaryExpression' || !/^(===|!==|==|!=|<|<=|>|>=)$/.test(String(t.operator))) return false;
  const l = unwrap(t.left as Node);
  const r = unwrap(t.right as Node);
  const other = l === load ? r : r === load ? l : null;
  return !!other && (other.type === 'Identifier' || other.type === 'NumericLiteral' || other.type === 'BigIntLiteral' || (other.type === 'MemberExpression' && !other.computed) || literalNumber(other) !== null);
}

/** `for (;;) { if (Atomics.load(a, i) === 1) break; }`: an endless loop whose only statement leaves once the load says so. */
export function pollsUntil(loop: Node, load: Node): boolean {
  const test = unwrap(loop.test as Node | null);
  if (loop.type !== 'ForStatement' && loop.type !== 'WhileStatement' && loop.type !== 'DoWhileStatement') return false;
  if (test && !(test.type === 'BooleanLiteral' && test.value === true)) return false;
  const body = loop.body as Node | null;
  const list = body?.type === 'BlockStatement' ? ((body.body as Node[]) ?? []) : body ? [body] : [];
  const stmt = list.length === 1 ? list[0]! : null;
  if (stmt?.type !== 'IfStatement' || stmt.alternate || !onlyTests(stmt.test as Node, load)) return false;
  const cons = stmt.consequent as Node;
  const exit = cons.type === 'BlockStatement' && (cons.body as Node[]).length === 1 ? (cons.body as Node[])[0]! : cons;
  return (exit.type === 'BreakStatement' && !exit.label) || exit.type === 'ReturnStatement';
}

/** True for a loop body that does nothing: `;`, `{}`, `continue;`. */
export function emptyBody(body: Node | null): boolean {
  if (!body) return false;
  if (body.type === 'EmptyStatement' || (body.type === 'ContinueStatement' && !body.label)) return true;
  const list = body.type === 'BlockStatement' ? ((body.body as Node[]) ?? []) : null;
  return !!list && (list.length === 0 || (list.length === 1 && emptyBody(list[0]!)));
}

function lockWithoutRelease(cx: LintContext, locks: LockModel): void {
  const m = cx.m;
  const owners = new Set<Node>([m.program, ...m.fns.keys()]);
  const callsIn = byOwner(m, m.calls);
  for (const owner of owners) {
    const evs = locks.eventsOf(owner);
    for (let k = 0; k < evs.length; k++) {
      const acq = evs[k]!;
      if (acq.kind !== 'acquire') continue;
      let rel: (typeof evs)[number] | undefined;
      for (let j = k + 1; j < evs.length && !rel; j++) {
        const e = evs[j]!;
        if (e.kind === 'release' && (e.key === acq.key || (e.name !== null && acq.name !== null && sameReceiver(cx, acq.node, e.node)))) rel = e;
      }
      if (!rel) continue;
      if (inFinally(m, rel.node, acq.end)) continue;
      const between = (n: Node): boolean => n.start >= acq.end && n.end <= rel.at;
      // A break/continue whose target encloses the acquire leaves the critical section too.
      const exit = (m.exits.get(owner) ?? []).find(between) ?? (m.jumps.get(owner) ?? []).find((j) => between(j.node) && j.target.start < acq.end)?.node;
      // Only evident throws count: a local function with a `throw`. Flagging every unknown call would bury the real cases.
      const risky = findWithin(callsIn.get(owner) ?? [], acq.end, rel.at, (c) => !locks.releaseNames.has(c.name ?? '') && throws(cx, callsIn, c, 0));
      const cause = exit ?? risky?.node;
      if (!cause) continue;
      cx.report('lock-without-release', acq.node, { call: cx.text(acq.node).split('\n')[0] ?? '', release: cx.text(rel.node).split('\n')[0] ?? '' }, {
        related: [cx.related(cause, exit ? 'this exit skips the release' : 'an exception thrown here skips the release'), cx.related(rel.node, 'the release')],
      });
    }
  }
}

/** Built-ins whose whole job is to reject bad input by throwing (`JSON.parse` of a malformed line). */
const THROWING_BUILTINS = /^(JSON\.parse|structuredClone|decodeURIComponent|decodeURI)$/;

/**
 * True when a call evidently can throw: it reaches a local function with a `throw` statement, or a
 * global built-in that throws on bad input (two calls deep).
 */
function throws(cx: LintContext, callsIn: Map<Node, CallSite[]>, c: CallSite, depth: number): boolean {
  if (depth <= 2 && throwingBuiltin(cx, c)) return true;
  const b = c.binding;
  const fn = b?.decl ?? unwrap(b?.init);
  if (!b || !fn || !cx.m.fns.has(fn) || depth > 2) return false;
  if ((cx.m.exits.get(fn) ?? []).some((e) => e.type === 'ThrowStatement')) return true;
  return (callsIn.get(fn) ?? []).some((x) => throws(cx, callsIn, x, depth + 1));
}

/** `JSON.parse(…)`, `decodeURIComponent(…)`, … of the global, not of a local that shadows it. */
function throwingBuiltin(cx: LintContext, c: CallSite): boolean {
  const callee = unwrap(c.node.callee as Node);
  const root = callee?.type === 'Identifier' ? callee : isMember(callee) ? unwrap(callee.object as Node) : null;
  if (root?.type !== 'Identifier' || cx.m.refs.has(root)) return false;
  return THROWING_BUILTINS.test(cx.text(callee).replace(/\s+/g, ''));
}

/** Facts by the function (or the program) they sit in, each list in source order. */
function byOwner<T extends Site>(m: FileModel, list: T[]): Map<Node, T[]> {
  const out = new Map<Node, T[]>();
  for (const x of list) {
    const owner = ownerOf(m, x);
    const g = out.get(owner);
    if (g) g.push(x);
    else out.set(owner, [x]);
  }
  return out;
}

/** True when `node` sits in the finally block of a try statement whose block reaches past `after` (the acquire). */
function inFinally(m: FileModel, node: Node, after: number): boolean {
  // The last `try … finally` starting before the node lies inside the innermost one around it (if any), so the
  // ones around the node are on the chain outwards from it.
  const list = m.finallyTries;
  const lo = lowerBound(list.length, (k) => list[k]!.node.start > node.start);
  for (let k = lo - 1; k >= 0; k = list[k]!.outer) {
    const t = list[k]!.node;
    const fin = t.finalizer as Node;
    if (fin.start <= node.start && node.end <= fin.end && (t.block as Node).end >= after) return true;
  }
  return false;
}

/**
 * A take (`if (Atomics.load(n, i) > 0) Atomics.sub(n, i, 1)`) that only the main thread makes, and the only one of
 * its cell in the file: the workers only add, so between the check and the take the count can only grow. (Which
 * thread a site is on: its isMainThread branch, or a file that starts workers and is never one itself.)
 */
function soleTaker(cx: LintContext, take: AtomicsCall): boolean {
  const m = cx.m;
  const onMain = (s: AtomicsCall): boolean => s.side === 'main' || (!s.side && m.workerSpawns.length > 0 && !m.checksMainThread && !m.usesWorkerApi);
  const cell = cellOf(cx, take);
  return onMain(take) && !m.atomics.some((c) => c !== take && cellOf(cx, c) === cell && (c.op === 'sub' || c.op === 'compareExchange' || c.op === 'exchange' || c.op === 'store'));
}

/**
 * Whether a named acquire and release may work one lock: unless both are methods of receivers that differ
 * (`slots.acquire()` … `items.release(1)`, a hand-over between two semaphores), where neither receiver is a
 * part of the other (`sem.acquire()` … `sem[CTRL].release()`).
 */
function sameReceiver(cx: LintContext, a: Node, b: Node): boolean {
  const recv = (c: Node): string | null => {
    const callee = unwrap(c.callee as Node);
    return callee?.type === 'MemberExpression' || callee?.type === 'OptionalMemberExpression' ? cx.text(callee.object as Node).replace(/\s+/g, '') : null;
  };
  const ra = recv(a);
  const rb = recv(b);
  return ra === null || rb === null || ra.startsWith(rb) || rb.startsWith(ra);
}
