/**
 * Quick fixes as pure text edits (the core computes them; the editor only applies them):
 * `a[i]++` → `Atomics.add(a, i, 1)`, `a[i] = v` → `Atomics.store(a, i, v)`, plain read →
 * `Atomics.load`, load+store → `compareExchange`, the missing `notify`, a re-check loop around a wait.
 */
import { unwrap, type Node } from './ast';
import type { LintContext } from './context';
import type { AtomicsCall, ElementAccess } from './model';
import type { QuickFix, TextEdit } from './types';

/** Applies non-overlapping edits to a source text. */
export function applyEdits(source: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = source;
  for (const e of sorted) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

const OPS: Record<string, string> = { '+=': 'add', '-=': 'sub', '&=': 'and', '|=': 'or', '^=': 'xor', '++': 'add', '--': 'sub' };
const BIN: Record<string, string> = { '+': 'add', '-': 'sub', '&': 'and', '|': 'or', '^': 'xor' };

/** Source text of an expression as a call argument: a comma expression (`a[i, j]`) or a parenthesised one keeps its parentheses. */
function argText(cx: LintContext, n: Node | null | undefined): string {
  if (!n) return '';
  const t = cx.text(n);
  return n.type === 'SequenceExpression' || n.extra?.parenthesized ? `(${t})` : t;
}

/** True when the value of `op` is not used (expression statement or a for-loop update). */
function valueUnused(a: { ancestors: Node[] }, op: Node): boolean {
  const anc = a.ancestors;
  // ancestors end with the op's parent chain; the op itself may be the last ancestor (member inside it).
  const i = anc.lastIndexOf(op);
  const parent = i >= 0 ? anc[i - 1] : anc[anc.length - 1];
  if (!parent) return false;
  if (parent.type === 'ExpressionStatement') return true;
  if (parent.type === 'ForStatement') return parent.update === op;
  return false;
}

/** `a[i]++` / `a[i] += v` / `a[i] = a[i] + v` → the matching Atomics read-modify-write. */
export function rmwFix(cx: LintContext, a: ElementAccess, bigint: boolean): QuickFix | null {
  const op = a.op;
  const arr = argText(cx, a.node.object as Node);
  const idx = argText(cx, a.node.property as Node);
  const one = bigint ? '1n' : '1';
  if (op.type === 'UpdateExpression') {
    const name = OPS[String(op.operator)];
    if (!name) return null;
    const call = `Atomics.${name}(${arr}, ${idx}, ${one})`;
    // Atomics.add returns the old value, like postfix ++; prefix ++ used as a value needs the new one.
    const text = op.prefix && !valueUnused(a, op) ? `(${call} ${name === 'add' ? '+' : '-'} ${one})` : call;
    return { title: `Use Atomics.${name}(${arr}, ${idx}, ${one})`, edits: [{ start: op.start, end: op.end, newText: text }] };
  }
  if (op.type !== 'AssignmentExpression' || !valueUnused(a, op)) return null;
  let name: string | undefined;
  let operand: Node | undefined;
  if (op.operator === '=') {
    const rhs = unwrap(op.right as Node);
    if (!rhs || rhs.type !== 'BinaryExpression') return null;
    name = BIN[String(rhs.operator)];
    const target = cx.text(a.node).replace(/\s+/g, '');
    const leftSame = cx.text(unwrap(rhs.left as Node)).replace(/\s+/g, '') === target;
    if (!leftSame && name === 'sub') return null;
    operand = (leftSame ? rhs.right : rhs.left) as Node;
  } else {
    name = OPS[String(op.operator)];
    operand = op.right as Node;
  }
  if (!name || !operand) return null;
  const call = `Atomics.${name}(${arr}, ${idx}, ${argText(cx, operand)})`;
  return { title: `Use Atomics.${name}`, edits: [{ start: op.start, end: op.end, newText: call }] };
}

/** `a[i] = v` → `Atomics.store(a, i, v)`. */
export function plainWriteFix(cx: LintContext, a: ElementAccess): QuickFix | null {
  const op = a.op;
  // Atomics.store returns the value converted to an integer, `a[i] = v` returns v itself: only where nobody reads it.
  if (op.type !== 'AssignmentExpression' || op.operator !== '=' || !valueUnused(a, op)) return null;
  const text = `Atomics.store(${argText(cx, a.node.object as Node)}, ${argText(cx, a.node.property as Node)}, ${argText(cx, op.right as Node)})`;
  return { title: 'Use Atomics.store', edits: [{ start: op.start, end: op.end, newText: text }] };
}

/** A plain read `a[i]` → `Atomics.load(a, i)`. */
export function plainReadFix(cx: LintContext, a: ElementAccess): QuickFix | null {
  if (a.node.optional) return null;
  const text = `Atomics.load(${argText(cx, a.node.object as Node)}, ${argText(cx, a.node.property as Node)})`;
  return { title: 'Use Atomics.load', edits: [{ start: a.node.start, end: a.node.end, newText: text }] };
}

/**
 * `if (Atomics.load(a, i) === E) { Atomics.store(a, i, V); … }` →
 * `if (Atomics.compareExchange(a, i, E, V) === E) { … }` (the store is removed).
 */
export function casFix(cx: LintContext, load: AtomicsCall, store: AtomicsCall, expected: Node, storeStmt: Node): QuickFix | null {
  const v = store.args[2];
  if (!v) return null;
  const call = `Atomics.compareExchange(${cx.text(load.args[0] ?? null)}, ${cx.text(load.args[1] ?? null)}, ${cx.text(expected)}, ${cx.text(v)})`;
  // Remove the whole line of the store statement when it stands alone on it.
  const src = cx.m.source;
  let s = storeStmt.start;
  let e = storeStmt.end;
  const lineStart = src.lastIndexOf('\n', s - 1) + 1;
  const nl = src.indexOf('\n', e);
  const lineEnd = nl < 0 ? src.length : nl;
  if (/^\s*$/.test(src.slice(lineStart, s)) && /^\s*$/.test(src.slice(e, lineEnd))) {
    s = lineStart;
    e = nl < 0 ? src.length : nl + 1;
  }
  return {
    title: 'Use Atomics.compareExchange',
    edits: [
      { start: load.node.start, end: load.node.end, newText: call },
      { start: s, end: e, newText: '' },
    ],
  };
}

/** Inserts `Atomics.notify(a, i, count)` on the line after a store statement (after a comment that ends its line). */
export function notifyFix(cx: LintContext, stmt: Node, arr: string, idx: string, count: string | null): QuickFix {
  const src = cx.m.source;
  const lineStart = src.lastIndexOf('\n', stmt.start - 1) + 1;
  const indent = /^[ \t]*/.exec(src.slice(lineStart, stmt.start))?.[0] ?? '';
  const call = `Atomics.notify(${arr}, ${idx}${count ? `, ${count}` : ''});`;
  const nl = src.indexOf('\n', stmt.end);
  const lineEnd = nl < 0 ? src.length : nl;
  const rest = src.slice(stmt.end, lineEnd);
  // `// …` to the end of the line stays with the store; `/* … */` could close on a later line, so stop before it.
  const at = /^[ \t]*(\/\/.*)?\r?$/.test(rest) ? lineEnd - (rest.endsWith('\r') ? 1 : 0) : stmt.end;
  return { title: `Add Atomics.notify(${arr}, ${idx}${count ? `, ${count}` : ''}) after the store`, edits: [{ start: at, end: at, newText: `\n${indent}${call}` }] };
}

/** `Atomics.wait(a, i, v);` → `while (Atomics.load(a, i) === v) Atomics.wait(a, i, v);`. */
export function waitLoopFix(cx: LintContext, wait: AtomicsCall, stmt: Node): QuickFix | null {
  const [arr, idx, v] = wait.args;
  const simple = (n: Node | undefined): boolean => {
    const u = unwrap(n);
    return !!u && (u.type === 'Identifier' || u.type === 'NumericLiteral' || u.type === 'BigIntLiteral' || u.type === 'StringLiteral' || u.type === 'MemberExpression' && !u.computed || (u.type === 'UnaryExpression' && u.operator === '-'));
  };
  // A timed wait in a re-check loop would retry forever instead of timing out: no one-line equivalent.
  if (!arr || !idx || !v || wait.args.length > 3 || !simple(idx) || !simple(v) || !simple(arr)) return null;
  const text = `while (Atomics.load(${cx.text(arr)}, ${cx.text(idx)}) === ${cx.text(v)}) ${cx.text(stmt).trim()}`;
  return { title: 'Wrap the wait in a loop that re-checks the value', edits: [{ start: stmt.start, end: stmt.end, newText: text }] };
}
