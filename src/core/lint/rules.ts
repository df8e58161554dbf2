/** The Atomics lint rules: id, default severity, one-sentence message (why + what to do), docs page. */

/** Every rule id. */
export const RULE_IDS = [
  'shared-plain-rmw',
  'mixed-atomic-plain-access',
  'plain-spin-read',
  'check-then-act',
  'atomics-bad-array',
  'atomics-non-shared',
  'wait-notify-type',
  'wait-on-main-thread',
  'wait-without-loop',
  'spin-without-backoff',
  'unlock-without-notify',
  'lock-without-release',
] as const;

/** A rule id. */
export type RuleId = (typeof RULE_IDS)[number];

/** Severity of a finding. */
export type Severity = 'error' | 'warning' | 'info';

/** What a rule is. */
export interface RuleInfo {
  id: RuleId;
  severity: Severity;
  /** Short title for docs and settings. */
  title: string;
  /** Message template: `{a}` is the array text, `{i}` the index text, `{op}` the Atomics op, `{t}` the array type, `{wait}` the waiting op. */
  message: string;
}

/** All rules, by id. */
export const RULES: Record<RuleId, RuleInfo> = {
  'shared-plain-rmw': {
    id: 'shared-plain-rmw',
    severity: 'error',
    title: 'Plain read-modify-write of a shared element',
    message: '{a}[{i}] is shared between threads, so this plain read-modify-write can lose updates when two threads interleave; use Atomics.{op} (or hold a lock).',
  },
  'mixed-atomic-plain-access': {
    id: 'mixed-atomic-plain-access',
    severity: 'warning',
    title: 'Plain access to an element used with Atomics elsewhere',
    message: '{a}[{i}] is accessed with Atomics elsewhere, so this plain {kind} is unordered against other threads and may see stale or torn values; use Atomics.{op}.',
  },
  'plain-spin-read': {
    id: 'plain-spin-read',
    severity: 'error',
    title: 'Busy-wait on a plain read of shared memory',
    message: 'This loop waits for another thread to change {a}[{i}] but reads it plainly: the compiler may read it once and spin forever; read it with Atomics.load({a}, {i}) (and wait on it with Atomics.wait rather than spinning).',
  },
  'check-then-act': {
    id: 'check-then-act',
    severity: 'warning',
    title: 'A check and a write of the same cell in two steps',
    message: '{what}, so two threads may act on the same value; use Atomics.compareExchange to test and set in one step, and act only when it succeeded.',
  },
  'atomics-bad-array': {
    id: 'atomics-bad-array',
    severity: 'error',
    title: 'Atomics on a float, clamped or non-typed array, or out of range',
    message: 'Atomics.{op} throws a {err} on {t}; {advice}.',
  },
  'atomics-non-shared': {
    id: 'atomics-non-shared',
    severity: 'warning',
    title: 'Atomics on an array that is not shared',
    message: '{a} is not backed by a SharedArrayBuffer, so no other thread can see it and Atomics.{op} {effect}; create the view over a SharedArrayBuffer.',
  },
  'wait-notify-type': {
    id: 'wait-notify-type',
    severity: 'error',
    title: 'wait/notify on an array other than Int32Array/BigInt64Array',
    message: 'Atomics.{op} throws a TypeError on {t}; wait and notify only work on an Int32Array or BigInt64Array over a SharedArrayBuffer.',
  },
  'wait-on-main-thread': {
    id: 'wait-on-main-thread',
    severity: 'warning',
    title: 'Atomics.wait on the main thread',
    message: 'Atomics.wait here runs on the main thread, where it blocks the event loop (and throws in browsers); use Atomics.waitAsync or wait for a message instead.',
  },
  'wait-without-loop': {
    id: 'wait-without-loop',
    severity: 'warning',
    title: 'Atomics.wait not inside a re-check loop',
    message: 'Atomics.{op} can return while the condition still does not hold (a notify meant for another waiter, a timeout, a value that changed back), so re-check {a}[{i}] in a loop around the wait.',
  },
  'spin-without-backoff': {
    id: 'spin-without-backoff',
    severity: 'warning',
    title: 'Spin loop without wait or back-off',
    message: 'This loop spins on Atomics.{op} without Atomics.wait or any back-off, burning a core that the thread it waits for may need; wait on the cell after a failed check (Atomics.wait, or Atomics.waitAsync on the main thread).',
  },
  'unlock-without-notify': {
    id: 'unlock-without-notify',
    severity: 'error',
    title: 'Unlock store without notify (lost wake-up)',
    message: 'Other code waits on {a}[{i}] with Atomics.{wait}, but this Atomics.{op} changes it without Atomics.notify, so a sleeping thread may never wake; call Atomics.notify({a}, {i}) after it.',
  },
  'lock-without-release': {
    id: 'lock-without-release',
    severity: 'warning',
    title: 'Lock acquired without a release on every path',
    message: 'The lock taken by {call} is not released on every path (an early exit or an exception skips {release}), so other threads can block forever; release it in a finally block.',
  },
};

/** Fills a rule's message template. */
export function formatMessage(id: RuleId, vars: Record<string, string>): string {
  return RULES[id].message.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? '');
}
