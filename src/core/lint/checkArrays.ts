/** Rules on the array an Atomics call works on: atomics-bad-array, atomics-non-shared, wait-notify-type. */
import { ELEMENT_BYTES, NON_ATOMIC_ARRAYS, TYPED_ARRAYS, unwrap, WAITABLE_ARRAYS, type Node } from './ast';
import type { LintContext } from './context';

const WAIT_OPS = new Set(['wait', 'waitAsync', 'notify']);
const TYPE_ERROR = 'use an Int32Array (or another integer typed array) over the SharedArrayBuffer';

/** Runs the array-type rules over every Atomics call. */
export function checkArrays(cx: LintContext): void {
  for (const c of cx.m.atomics) {
    if (!c.array || c.op === 'isLockFree' || c.op === 'pause') continue;
    const v = cx.val(c.array);
    if (!v) continue;
    const a = cx.text(c.args[0] ?? null);
    if (v.k === 'ta' && NON_ATOMIC_ARRAYS.has(v.type)) {
      cx.report('atomics-bad-array', c.node, { op: c.op, err: 'TypeError', t: `a ${v.type}`, a, advice: TYPE_ERROR });
      continue;
    }
    const notTyped = v.k === 'array' ? 'a plain Array' : v.k === 'dataview' ? 'a DataView' : v.k === 'sab' || v.k === 'ab' ? 'an ArrayBuffer itself (not a typed array view)' : v.k === 'obj' ? 'a plain object' : null;
    if (notTyped) {
      cx.report('atomics-bad-array', c.node, { op: c.op, err: 'TypeError', t: notTyped, a, advice: TYPE_ERROR });
      continue;
    }
    if (v.k !== 'ta') continue;
    if (WAIT_OPS.has(c.op) && !WAITABLE_ARRAYS.has(v.type)) {
      cx.report('wait-notify-type', c.node, { op: c.op, t: `a ${v.type}`, a });
      continue;
    }
    const index = cx.constNumber(c.index);
    const length = index === null ? null : viewLength(cx, c.array);
    if (index !== null && length !== null && Number.isInteger(index) && (index < 0 || index >= length)) {
      cx.report('atomics-bad-array', c.node, { op: c.op, err: 'RangeError', t: `index ${index} of ${a}, which has ${length} element${length === 1 ? '' : 's'}`, a, advice: 'use an index below the view\'s length' });
      continue;
    }
    if (v.shared === 'no') {
      const effect = c.op === 'wait' ? 'throws a TypeError' : c.op === 'notify' ? 'always returns 0' : c.op === 'waitAsync' ? 'throws a TypeError' : 'buys nothing';
      cx.report('atomics-non-shared', c.node, { op: c.op, a, effect }, { severity: c.op === 'wait' || c.op === 'waitAsync' ? 'error' : undefined });
    }
  }
}

/**
 * The element count of a view that a `const` (or a never-reassigned name) holds, when it is certain:
 * `new T(n)`, `new T(buf, off, n)`, or `new T(buf[, off])` over `new SharedArrayBuffer(bytes)` / `new ArrayBuffer(bytes)`
 * without growth options. Null otherwise.
 */
function viewLength(cx: LintContext, expr: Node | null): number | null {
  const e = unwrap(expr);
  const b = e?.type === 'Identifier' ? cx.m.refs.get(e) : undefined;
  if (!b || b.path.length || b.assigned.length || b.updates.length || b.kind === 'param') return null;
  const init = unwrap(b.init);
  const callee = init?.type === 'NewExpression' ? unwrap(init.callee as Node) : null;
  const type = callee?.type === 'Identifier' ? String(callee.name) : '';
  if (!init || !TYPED_ARRAYS.has(type)) return null;
  const args = ((init.arguments as Node[]) ?? []).map((x) => unwrap(x));
  if (args.some((x) => !x || x.type === 'SpreadElement')) return null;
  if (args.length === 1 && cx.constNumber(args[0]!) !== null) return cx.constNumber(args[0]!);
  if (args.length === 3) return cx.constNumber(args[2]!);
  if (args.length < 1 || args.length > 2) return null;
  const bytes = bufferBytes(cx, args[0]!);
  const offset = args.length === 2 ? cx.constNumber(args[1]!) : 0;
  if (bytes === null || offset === null) return null;
  return Math.floor((bytes - offset) / ELEMENT_BYTES[type]!);
}

/** Byte length of `new SharedArrayBuffer(n)` / `new ArrayBuffer(n)` (directly or through a never-reassigned name), else null. */
function bufferBytes(cx: LintContext, expr: Node): number | null {
  let e: Node | null = expr;
  if (e.type === 'Identifier') {
    const b = cx.m.refs.get(e);
    if (!b || b.path.length || b.assigned.length || b.kind === 'param') return null;
    e = unwrap(b.init);
  }
  if (!e || e.type !== 'NewExpression') return null;
  const callee = unwrap(e.callee as Node);
  const args = (e.arguments as Node[]) ?? [];
  if (callee?.type !== 'Identifier' || (callee.name !== 'SharedArrayBuffer' && callee.name !== 'ArrayBuffer') || args.length !== 1) return null;
  return cx.constNumber(args[0] ?? null);
}
