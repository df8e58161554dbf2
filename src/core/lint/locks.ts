/**
 * Recognises lock helpers (a function whose body is a compareExchange/exchange acquire loop, and
 * one that stores the free value and notifies) and the regions guarded by their calls, so plain
 * accesses inside a critical section are not flagged.
 */
import { isFunction, unwrap, type Node } from './ast';
import type { LintContext } from './context';
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

  constructor(private readonly cx: LintContext) {
    const m = cx.m;
    const byFn = new Map<Node, AtomicsCall[]>();
    for (const a of m.atomics) {
      const f = ownerOf(m, a);
      const list = byFn.get(f);
      if (list) list.push(a);
      else byFn.set(f, [a]);
    }
    for (const [fn, calls] of byFn) {
      const info = m.fns.get(fn);
      if (!info?.name) continue;
      const notifies = calls.some((c) => c.op === 'notify');
      // A CAS/exchange retry loop (mutex, spinlock), or a ticket taken by an RMW then a wait loop on the same array
      // that never notifies and touches no data (ticket lock, semaphore down).
      const rmwKeys = new Set(calls.filter((c) => c.loops.length === 0 && RMW_OPS.has(c.op)).map((c) => cx.arrayKey(c.array)));
      const plain = m.accesses.some((x) => ownerOf(m, x) === fn);
      const acquire = calls.some((c) => c.loops.length > 0 && (ACQUIRE_OPS.has(c.op) || (c.op === 'wait' && !notifies && !plain && rmwKeys.has(cx.arrayKey(c.array)))));
      const stores = calls.some((c) => RELEASE_OPS.has(c.op) && c.loops.length === 0);
      if (acquire && !(notifies && RELEASE_NAME.test(info.name))) {
        this.acquireFns.add(fn);
        this.acquireNames.add(info.name);
      } else if (stores && (notifies || RELEASE_NAME.test(info.name)) && !acquire) {
        this.releaseFns.add(fn);
        this.releaseNames.add(info.name);
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
    // Inline locks: an acquire loop on compareExchange/exchange and a later store to the same cell.
    for (const [fn, calls] of byFn) {
      if (this.isHelper(fn)) continue;
      const acquired = new Set<string>();
      for (const c of calls) {
        const cell = `${cx.arrayKey(c.array)}[${cx.indexKey(c.index)}]`;
        const loop = c.loops[c.loops.length - 1];
        if (ACQUIRE_OPS.has(c.op) && loop) {
          acquired.add(cell);
          this.addEvent(fn, { at: loop.start, end: loop.end, kind: 'acquire', node: c.node, key: cell, name: null });
        } else if (c.op === 'store' && acquired.has(cell)) {
          this.addEvent(fn, { at: c.node.start, end: c.node.end, kind: 'release', node: c.node, key: cell, name: null });
        }
      }
    }
    for (const list of this.events.values()) list.sort((a, b) => a.at - b.at);
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
    if (insideHelpers && this.isHelper(owner)) return true;
    if (this.inRegion(owner, s.node.start)) return true;
    if (depth > 3) return false;
    // Walk outwards: a callback defined inside a critical section, or a helper only called from ones.
    for (let i = s.fns.length - 1; i >= 0; i--) {
      const fn = s.fns[i]!;
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
