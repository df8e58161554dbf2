/**
 * Recognises lock helpers (a function whose body is a compareExchange/exchange acquire loop, and
 * one that stores the free value and notifies) and the regions guarded by their calls, so plain
 * accesses inside a critical section are not flagged.
 */
import { isFunction, unwrap, type Node } from './ast';
import { AliasIndex, type LintContext } from './context';
import { ownerOf, type AtomicsCall, type CallSite, type Site } from './model';

const ACQUIRE_OPS = new Set(['compareExchange', 'exchange']);
const RMW_OPS = new Set(['add', 'sub', 'compareExchange', 'exchange']);
const RELEASE_OPS = new Set(['store', 'exchange', 'sub', 'add', 'and', 'or', 'xor', 'compareExchange']);
const RELEASE_NAME = /unlock|release|leave|exit|free|post|signal|give|drop/i;
/** Call names that read as taking / giving back a lock, for helpers defined in another file. */
const ACQUIRE_CALL = /^(?!try)(lock|acquire|enter|take)([A-Z_0-9]\w*)?$|^[a-z]\w*(Lock|Acquire)$/;
const RELEASE_CALL = /^(unlock|release|leave|give)([A-Z_0-9]\w*)?$|^[a-z]\w*(Unlock|Release)$/;

/** A lock or unlock event inside one function: a helper call or an inline acquire loop / release store. */
interface LockEvent {
  at: number;
  end: number;
  kind: 'acquire' | 'release';
  node: Node;
  /** Text naming the lock (helper receiver+args, or array[index]) for matching an acquire with its release. */
  key: string;
  /** Helper name, or null for inline Atomics. */
  name: string | null;
}

/** Lock helpers of the file and the lock events of each function. */
export class LockModel {
  readonly acquireFns = new Set<Node>();
  readonly releaseFns = new Set<Node>();
  readonly acquireNames = new Set<string>();
  readonly releaseNames = new Set<string>();
  private readonly events = new Map<Node, LockEvent[]>();
  private readonly callsByName = new Map<string, CallSite[]>();
  private readonly guardMemo = new Map<Node, boolean>();
  /** Inside an acquire helper, code after this offset runs with the lock held; inside a release helper, code before it. */
  private readonly heldFrom = new Map<Node, number>();
  private readonly heldUntil = new Map<Node, number>();
  /** Array keys some code takes as a lock word with compareExchange/exchange. */
  private readonly casKeys = new Map<string, AtomicsCall[]>();
  private readonly casIndex = new Map<string, AliasIndex>();
  /** Functions passed to a `withLock(fn)`-style wrapper that calls them between its acquire and release. */
  private readonly guardedCallbacks = new Set<Node>();

  constructor(private readonly cx: LintContext) {
    const m = cx.m;
    const byFn = new Map<Node, AtomicsCall[]>();
    for (const a of m.atomics) {
      const f = ownerOf(m, a);
      const list = byFn.get(f);
      if (list) list.push(a);
      else byFn.set(f, [a]);
    }
    for (const a of m.atomics) {
      const k = ACQUIRE_OPS.has(a.op) ? cx.arrayKey(a.array) : null;
      if (!k) continue;
      const list = this.casKeys.get(k);
      if (list) list.push(a);
      else this.casKeys.set(k, [a]);
    }
    const cell = (c: AtomicsCall): string => cx.cellOf(c);
    const withAccesses = new Set(m.accesses.map((x) => ownerOf(m, x)));
    for (const [fn, calls] of byFn) {
      const info = m.fns.get(fn);
      if (!info?.name) continue;
      const notifies = calls.some((c) => c.op === 'notify');
      // A CAS/exchange retry loop (mutex, spinlock), or a ticket taken by an RMW then a wait loop on the same array
      // that never notifies and touches no data (ticket lock, semaphore down).
      const rmwKeys = new Set(calls.filter((c) => c.loops.length === 0 && RMW_OPS.has(c.op)).map((c) => cx.arrayKey(c.array)));
      const plain = withAccesses.has(fn);
      const acquires = calls.filter((c) => c.loops.length > 0 && (ACQUIRE_OPS.has(c.op) || (c.op === 'wait' && !notifies && !plain && rmwKeys.has(cx.arrayKey(c.array)))));
      const releases = calls.filter((c) => RELEASE_OPS.has(c.op) && c.loops.length === 0);
      // A function that takes a lock word and stores it back is a whole critical section, not a helper:
      // its inline lock events say which of its accesses are guarded.
      const selfContained = calls.some((a) => ACQUIRE_OPS.has(a.op) && calls.some((r) => r.op === 'store' && r.node.start > a.node.end && cell(r) === cell(a)));
      if (selfContained) continue;
      if (acquires.length && !(notifies && RELEASE_NAME.test(info.name))) {
        this.acquireFns.add(fn);
        this.acquireNames.add(info.name);
        this.heldFrom.set(fn, Math.min(...acquires.map((c) => (c.loops[0] ?? c.node).end)));
      } else if (releases.length && (notifies || RELEASE_NAME.test(info.name)) && !acquires.length) {
        // A release gives back a lock: a word some code takes with compareExchange/exchange (not here: a try-lock
        // that takes and gives back is a critical section), or a helper named like a release.
        const keys = releases.map((r) => cx.arrayKey(r.array));
        const takesHere = calls.some((c) => ACQUIRE_OPS.has(c.op) && keys.includes(cx.arrayKey(c.array)));
        const lockWord = keys.some((k) => !!k && this.casKeys.has(k));
        // A generic helper (`V(s)`, `give(view, i)`) releases whatever its caller passes, in a file that takes locks.
        const generic = this.casKeys.size > 0 && releases.some((r) => { const a = unwrap(r.array); const b = a?.type === 'Identifier' ? m.refs.get(a) : undefined; return b?.kind === 'param' && b.fn === fn; });
        if (takesHere || !(lockWord || generic || RELEASE_NAME.test(info.name))) continue;
        this.releaseFns.add(fn);
        this.releaseNames.add(info.name);
        this.heldUntil.set(fn, Math.min(...releases.map((c) => c.node.start)));
      }
    }
    for (const c of m.calls) {
      if (!c.name) continue;
      const list = this.callsByName.get(c.name);
      if (list) list.push(c);
      else this.callsByName.set(c.name, [c]);
      let kind: 'acquire' | 'release' | null = this.acquireNames.has(c.name) ? 'acquire' : this.releaseNames.has(c.name) ? 'release' : null;
      if (!kind && !this.definedHere(c)) kind = ACQUIRE_CALL.test(c.name) ? 'acquire' : RELEASE_CALL.test(c.name) ? 'release' : null;
      if (kind && !this.isHelper(ownerOf(m, c))) this.addEvent(ownerOf(m, c), { at: c.node.start, end: c.node.end, kind, node: c.node, key: this.callKey(c.node), name: c.name });
    }
    // Inline locks: an acquire loop on compareExchange/exchange, or a try-lock (`if (CAS(a, i, E, V) !== E) return;`,
    // `if (CAS(a, i, E, V) === E) { … }`), and a later store to the same cell.
    for (const [fn, calls] of byFn) {
      if (this.isHelper(fn)) continue;
      const acquired = new Set<string>();
      for (const c of calls) {
        const key = cell(c);
        const loop = c.loops[c.loops.length - 1];
        if (ACQUIRE_OPS.has(c.op) && loop) {
          acquired.add(key);
          this.addEvent(fn, { at: loop.start, end: loop.end, kind: 'acquire', node: c.node, key, name: null });
        } else if (c.op === 'compareExchange') {
          const span = tryLockSpan(cx, c);
          if (span) {
            acquired.add(key);
            this.addEvent(fn, { at: span.start, end: span.end, kind: 'acquire', node: c.node, key, name: null });
          }
        } else if (c.op === 'store' && acquired.has(key)) {
          this.addEvent(fn, { at: c.node.start, end: c.node.end, kind: 'release', node: c.node, key, name: null });
        }
      }
    }
    for (const list of this.events.values()) list.sort((a, b) => a.at - b.at);
    // `withLock(fn)`: a function that calls its own parameter between an acquire and its release runs the
    // callbacks passed to it under the lock.
    const wrappers = new Map<string, number>();
    for (const c of m.calls) {
      const b = c.binding;
      if (!b || b.kind !== 'param' || !b.fn || b.path.length || ownerOf(m, c) !== b.fn) continue;
      const name = m.fns.get(b.fn)?.name;
      if (name && this.inRegion(b.fn, c.node.start)) wrappers.set(name, b.paramIndex);
    }
    if (wrappers.size) {
      for (const c of m.calls) {
        const idx = c.name ? wrappers.get(c.name) : undefined;
        const arg = idx === undefined ? null : unwrap(((c.node.arguments as Node[]) ?? [])[idx]);
        if (arg && isFunction(arg)) this.guardedCallbacks.add(arg);
      }
    }
  }

  /** True when `a[i]` may be a lock word itself (taken with compareExchange/exchange): holding the lock does not excuse plain access to it. */
  isLockWord(key: string | null, index: Node | null): boolean {
    const calls = key ? this.casKeys.get(key) : undefined;
    if (!key || !calls) return false;
    const idx = this.casIndex.get(key) ?? this.casIndex.set(key, new AliasIndex(this.cx, calls)).get(key)!;
    return idx.first(index) !== undefined;
  }

  /** True when the callee is a function of this file (then its body, not its name, says what it does). */
  private definedHere(c: CallSite): boolean {
    const b = c.binding;
    if (!b) return false;
    return b.kind === 'function' || (b.init !== null && isFunction(unwrap(b.init) ?? b.node));
  }

  /** True for an acquire or release helper function. */
  isHelper(fn: Node): boolean {
    return this.acquireFns.has(fn) || this.releaseFns.has(fn);
  }

  /** Lock events (sorted by position) inside one function or the program. */
  eventsOf(fn: Node): LockEvent[] {
    return this.events.get(fn) ?? [];
  }

  /** True when a site sits between an acquire and its release, or in a function only called from such places. */
  guarded(s: Site, depth = 0, insideHelpers = true): boolean {
    const owner = ownerOf(this.cx.m, s);
    // Inside a lock helper only the part after its acquire loop (or before its release) runs with the lock held.
    if (insideHelpers && this.acquireFns.has(owner) && s.node.start >= (this.heldFrom.get(owner) ?? 0)) return true;
    if (insideHelpers && this.releaseFns.has(owner) && s.node.end <= (this.heldUntil.get(owner) ?? Infinity)) return true;
    if (this.inRegion(owner, s.node.start)) return true;
    if (depth > 3) return false;
    // Walk outwards: a callback defined inside a critical section or passed to a lock wrapper, or a helper only called from ones.
    for (let i = s.fns.length - 1; i >= 0; i--) {
      const fn = s.fns[i]!;
      if (this.guardedCallbacks.has(fn)) return true;
      const outer = i > 0 ? s.fns[i - 1]! : this.cx.m.program;
      if (this.inRegion(outer, fn.start)) return true;
      if (this.onlyCalledGuarded(fn, depth)) return true;
    }
    return false;
  }

  private inRegion(owner: Node, pos: number): boolean {
    const evs = this.eventsOf(owner);
    let open: LockEvent | null = null;
    for (const e of evs) {
      if (e.at >= pos) {
        if (open && e.kind === 'release') return true;
        // Still inside the acquire loop itself: not yet guarded.
        break;
      }
      if (e.kind === 'acquire' && e.end <= pos) open = e;
      else if (e.kind === 'release' && e.end <= pos) open = null;
    }
    if (!open) return false;
    // Released in a finally of a try that encloses pos, or later in the function: either way guarded.
    return evs.some((e) => e.kind === 'release' && e.at > pos);
  }

  private onlyCalledGuarded(fn: Node, depth: number): boolean {
    if (this.guardMemo.has(fn)) return this.guardMemo.get(fn)!;
    this.guardMemo.set(fn, false);
    const name = this.cx.m.fns.get(fn)?.name;
    const calls = name ? (this.callsByName.get(name) ?? []) : [];
    const ok = calls.length > 0 && calls.every((c) => this.guarded(c, depth + 1));
    this.guardMemo.set(fn, ok);
    return ok;
  }

  private callKey(call: Node): string {
    const callee = call.callee as Node;
    const recv = callee.type === 'MemberExpression' ? this.cx.text(callee.object as Node) : '';
    const args = ((call.arguments as Node[]) ?? []).map((a) => this.cx.text(a)).join(',');
    return `${recv}(${args})`.replace(/\s+/g, '');
  }

  private addEvent(fn: Node, e: LockEvent): void {
    const list = this.events.get(fn);
    if (list) list.push(e);
    else this.events.set(fn, [e]);
  }
}

/**
 * The span after which a try-lock holds its lock: `if (CAS(a, i, E, V) !== E) return|throw|break|continue;`
 * (held after the `if`) or `if (CAS(a, i, E, V) === E) { … }` (held inside the block), else null.
 */
function tryLockSpan(cx: LintContext, c: AtomicsCall): { start: number; end: number } | null {
  const anc = c.ancestors;
  const cmp = anc[anc.length - 1];
  const holder = anc[anc.length - 2];
  if (!cmp || !holder || cmp.type !== 'BinaryExpression' || holder.type !== 'IfStatement' || holder.test !== cmp) return null;
  const other = (unwrap(cmp.left as Node) === c.node ? cmp.right : cmp.left) as Node;
  const expected = c.args[2];
  if (!expected || cx.text(unwrap(other)).replace(/\s+/g, '') !== cx.text(unwrap(expected)).replace(/\s+/g, '')) return null;
  const op = String(cmp.operator);
  if (op === '===' || op === '==') return { start: cmp.start, end: cmp.end };
  if (op !== '!==' && op !== '!=') return null;
  const cons = holder.consequent as Node;
  const exit = cons.type === 'BlockStatement' ? ((cons.body as Node[]).length === 1 ? (cons.body as Node[])[0] : null) : cons;
  const exits = exit && (exit.type === 'ReturnStatement' || exit.type === 'ThrowStatement' || exit.type === 'BreakStatement' || exit.type === 'ContinueStatement');
  return exits && !holder.alternate ? { start: holder.start, end: holder.end } : null;
}
