/** Rules on the array an Atomics call works on: atomics-bad-array, atomics-non-shared, wait-notify-type. */
import { NON_ATOMIC_ARRAYS, WAITABLE_ARRAYS } from './ast';
import type { LintContext } from './context';

const WAIT_OPS = new Set(['wait', 'waitAsync', 'notify']);

/** Runs the array-type rules over every Atomics call. */
export function checkArrays(cx: LintContext): void {
  for (const c of cx.m.atomics) {
    if (!c.array || c.op === 'isLockFree' || c.op === 'pause') continue;
    const v = cx.val(c.array);
    if (!v) continue;
    const a = cx.text(c.args[0] ?? null);
    if (v.k === 'ta' && NON_ATOMIC_ARRAYS.has(v.type)) {
      cx.report('atomics-bad-array', c.node, { op: c.op, t: `a ${v.type}`, a });
      continue;
    }
    const notTyped = v.k === 'array' ? 'a plain Array' : v.k === 'dataview' ? 'a DataView' : v.k === 'sab' || v.k === 'ab' ? 'an ArrayBuffer itself (not a typed array view)' : v.k === 'obj' ? 'a plain object' : null;
    if (notTyped) {
      cx.report('atomics-bad-array', c.node, { op: c.op, t: notTyped, a });
      continue;
    }
    if (v.k !== 'ta') continue;
    if (WAIT_OPS.has(c.op) && !WAITABLE_ARRAYS.has(v.type)) {
      cx.report('wait-notify-type', c.node, { op: c.op, t: `a ${v.type}`, a });
      continue;
    }
    if (v.shared === 'no') {
      const effect = c.op === 'wait' ? 'throws a TypeError' : c.op === 'notify' ? 'always returns 0' : c.op === 'waitAsync' ? 'throws a TypeError' : 'buys nothing';
      cx.report('atomics-non-shared', c.node, { op: c.op, a, effect }, { severity: c.op === 'wait' || c.op === 'waitAsync' ? 'error' : undefined });
    }
  }
}
