/** Rules on plain element accesses: shared-plain-rmw, mixed-atomic-plain-access and plain-spin-read. */
import { unwrap, type Node } from './ast';
import type { LintContext } from './context';
import { rmwFix, plainReadFix, plainWriteFix } from './fixes';
import { emptyBody, onlyTests, pollsUntil } from './checkLocks';
import type { LockModel } from './locks';
import { isCallbackOf, ownerOf, type AtomicsCall, type ElementAccess, type Site } from './model';

const RMW_OPS: Record<string, string> = { '+=': 'add', '-=': 'sub', '&=': 'and', '|=': 'or', '^=': 'xor', '++': 'add', '--': 'sub' };

/** Runs both access rules. */
export function checkAccesses(cx: LintContext, locks: LockModel): void {
  const m = cx.m;
  const firstSpawn = new Map<Node, number>();
  for (const w of m.workerSpawns) {
    const owner = m.spawnOwners.get(w) ?? m.program;
    if (!firstSpawn.has(owner)) firstSpawn.set(owner, w.start);
  }
  const mainFile = m.workerSpawns.length > 0;
  /** True when happens-before evidently orders this site against the workers (set up before spawning, or run after a join). */
  const ordered = (s: Site): boolean => {
    if (isCallbackOf(m.exitCallbacks, s.fns)) return true;
    if (!mainFile || s.side === 'worker') return false;
    if (m.checksMainThread && s.side !== 'main') return false;
    if (isCallbackOf(m.joinCallbacks, s.fns)) return true;
    const owner = ownerOf(m, s);
    const spawn = firstSpawn.get(owner);
    if (spawn !== undefined && s.node.end <= spawn) return true;
    // Awaits are listed in source order: the first one says whether any comes before.
    const first = m.awaits.get(owner)?.[0];
    return first !== undefined && first < s.node.start;
  };

  // Memory nobody else can see: a file with no workers, messages, exports or Atomics keeps its buffers to itself.
  const threaded = /Worker|postMessage|workerData|parentPort|exports|export\s|setEnvironmentData|onmessage|Atomics|MessageChannel|BroadcastChannel/.test(m.source);
  const inRmw = new Set<Node>();
  for (const a of m.accesses) {
    if (a.kind !== 'write' || a.op.type !== 'AssignmentExpression') continue;
    const inner = sameCellOperand(cx, a);
    if (inner) {
      a.kind = 'rmw';
      inRmw.add(inner);
    }
  }

  for (const a of m.accesses) {
    if (inRmw.has(a.node)) continue;
    const key = cx.arrayKey(a.array);
    if (!key) continue;
    const v = cx.val(a.array);
    if (v && v.k !== 'ta') continue;
    if (v?.k === 'ta' && v.shared === 'no') continue;
    const atomic = cx.atomicArrays.has(key);
    // Atomics on another view of the same bytes (`new Int32Array(sab, 0, 4)` and `new Int32Array(sab)`).
    const other = cx.otherViewAtomics(a.array, a.index);
    const shared = atomic || !!other || (threaded && v?.k === 'ta' && v.shared === 'yes');
    if (!shared) continue;
    // `while (stop[0] === 0) {}` over shared memory with no Atomics on the cell (with Atomics on
    // it, mixed-atomic-plain-access says it): nothing in the loop makes the read happen again.
    if (a.kind === 'read' && !atomic && !other && spins(a)) {
      cx.report('plain-spin-read', a.node, { a: cx.text(a.array), i: cx.text(a.index) }, { fix: plainReadFix(cx, a) });
      continue;
    }
    if ((locks.guarded(a) && !locks.isLockWord(key, a.index)) || ordered(a)) continue;
    const vars = { a: cx.text(a.array), i: cx.text(a.index) };
    const bigint = v?.k === 'ta' && v.type.startsWith('Big');
    if (a.kind === 'rmw') {
      // A per-thread index (a loop counter, a parameter, workerData.id, threadId) is not contended, unless Atomics
      // on this array also use variable indices: then the variable cells themselves are what threads share.
      const constant = cx.constNumber(a.index) !== null;
      if (!constant && partitioned(cx, a) && !cx.aliasIndex(key).variable.length) continue;
      // `*=`, `a[i] = x - a[i]`: no single Atomics call does it.
      const op = rmwOpName(cx, a) ?? 'compareExchange in a retry loop';
      const rel = (atomic ? cx.aliasIndex(key).first(a.index) : undefined) ?? other;
      const also = rel === other ? `${cx.text(rel?.array ?? null)}[${cx.text(rel?.index ?? null)}], which shares bytes with it,` : cx.text(rel?.array ?? null);
      cx.report('shared-plain-rmw', a.op, { ...vars, op }, {
        related: rel ? [cx.related(rel.node, `${also} is also used with Atomics.${rel.op} here`)] : [],
        fix: rmwFix(cx, a, bigint),
      });
    } else if (atomic || other) {
      const on = cx.aliasIndex(key);
      if (!other && addressArithmetic(cx, a.index) && !on.variable.length) continue;
      const data = (c: AtomicsCall): boolean => c.op !== 'wait' && c.op !== 'notify' && c.op !== 'waitAsync';
      const same = on.first(a.index, data) ?? on.first(a.index);
      const rel = same ?? (other && (cx.otherViewAtomics(a.array, a.index, data) ?? other));
      if (!rel) continue;
      const write = a.kind === 'write';
      const bytes = same ? '' : ', which shares bytes with it,';
      cx.report('mixed-atomic-plain-access', write ? a.op : a.node, { ...vars, kind: write ? 'write' : 'read', op: write ? 'store' : 'load' }, {
        related: [cx.related(rel.node, `${cx.text(rel.array)}[${cx.text(rel.index)}]${bytes} is accessed with Atomics.${rel.op} here`)],
        fix: write ? plainWriteFix(cx, a) : plainReadFix(cx, a),
      });
    }
  }
}

/** For `a[i] = a[i] op x` (or `x op a[i]`), the operand member that reads the same cell. */
function sameCellOperand(cx: LintContext, a: ElementAccess): Node | null {
  const rhs = unwrap(a.op.right as Node);
  if (!rhs || rhs.type !== 'BinaryExpression') return null;
  const target = cx.text(a.node).replace(/\s+/g, '');
  for (const side of [rhs.left, rhs.right] as Node[]) {
    const s = unwrap(side);
    if (s && (s.type === 'MemberExpression' || s.type === 'OptionalMemberExpression') && s.computed && cx.text(s).replace(/\s+/g, '') === target) return s;
  }
  return null;
}

/** The Atomics op equivalent to this read-modify-write, or null when there is none (`*=`, `a[i] = x - a[i]`). */
export function rmwOpName(cx: LintContext, a: ElementAccess): string | null {
  const op = a.op;
  if (op.type === 'UpdateExpression') return RMW_OPS[String(op.operator)] ?? null;
  if (op.type !== 'AssignmentExpression') return null;
  if (op.operator !== '=') return RMW_OPS[String(op.operator)] ?? null;
  const rhs = unwrap(op.right as Node);
  if (!rhs || rhs.type !== 'BinaryExpression') return null;
  const target = cx.text(a.node).replace(/\s+/g, '');
  const leftIs = cx.text(unwrap(rhs.left as Node)).replace(/\s+/g, '') === target;
  const map: Record<string, string> = { '+': 'add', '-': 'sub', '&': 'and', '|': 'or', '^': 'xor' };
  const name = map[String(rhs.operator)] ?? null;
  if (!name) return null;
  return leftIs || name !== 'sub' ? name : null;
}

/** True when the index evidently differs per thread or per iteration (a loop variable, a parameter, a workerData field). */
function partitioned(cx: LintContext, a: ElementAccess): boolean {
  let found = false;
  const loopVars = new Set<number>();
  for (const loop of a.loops) {
    // Counter loops (`for (let i…)`) and `for…in` keys index disjoint cells; `for…of` values are data.
    if (loop.type === 'ForOfStatement') continue;
    const decl = (loop.type === 'ForStatement' ? loop.init : loop.left) as Node | null;
    if (decl?.type === 'VariableDeclaration') for (const d of (decl.declarations as Node[]) ?? []) {
      const b = d.id ? cx.m.scopes.declared.get(d.id as Node) : undefined;
      if (b) loopVars.add(b.id);
    }
  }
  const visit = (n: Node | null): void => {
    const e = unwrap(n);
    if (!e || found) return;
    // `hist[samples[i]]`: a value read from an array is data, whichever cell the loop counter picks it from.
    if ((e.type === 'MemberExpression' || e.type === 'OptionalMemberExpression') && e.computed) return;
    if (e.type === 'Identifier') {
      if (e.name === 'threadId') found = true;
      const b = cx.m.refs.get(e);
      if (b && (loopVars.has(b.id) || b.kind === 'param' || cx.values.ofBinding(b)?.k === 'payload')) found = true;
      if (b && b.kind !== 'param' && b.init && /workerData|threadId/.test(cx.text(b.init))) found = true;
      return;
    }
    for (const k of ['left', 'right', 'argument', 'object', 'expressions', 'consequent', 'alternate', 'test']) {
      const c = e[k] as Node | Node[] | undefined;
      if (Array.isArray(c)) c.forEach(visit);
      else if (c && typeof c === 'object') visit(c);
    }
    if (e.type === 'MemberExpression' && !e.computed && /workerData|threadId|id$/i.test(cx.text(e))) found = true;
  };
  visit(a.index);
  return found;
}

/**
 * An index computed from a pointer (`u32[(ptr + 8) >> 2]`) into an array whose Atomics all use fixed cells: the
 * fixed cells are a header of control words, the computed ones the data they publish (a heap, a ring's slots).
 * Nothing says the two meet, and a bare variable (`flags[i]`) is still taken to be one of those cells.
 */
function addressArithmetic(cx: LintContext, index: Node | null, depth = 0): boolean {
  const e = unwrap(index);
  if (e?.type === 'Identifier' && depth < 2) {
    // `const idx = ptr >> 2; u32[idx] = …`
    const b = cx.m.refs.get(e);
    return !!b && b.kind === 'const' && b.path.length === 0 && addressArithmetic(cx, b.init, depth + 1);
  }
  return e?.type === 'BinaryExpression' && cx.constNumber(e) === null && cx.lowerBound(e, 0) === null;
}

/** True when the access is the whole test of a loop that does nothing else (or the one exit test of an endless loop). */
function spins(a: ElementAccess): boolean {
  const loop = a.loops[a.loops.length - 1];
  if (!loop) return false;
  return (onlyTests(loop.test as Node | null, a.node) && emptyBody(loop.body as Node | null)) || pollsUntil(loop, a.node);
}
