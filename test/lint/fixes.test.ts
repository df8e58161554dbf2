// Quick fixes are text edits computed in the core: apply each one, check the text, check that
// it still parses, and check that the finding it fixes is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@babel/parser';
import { analyseSource, applyEdits, type RuleId } from '../../src/core/lint/index';

const HEAD = "const { workerData } = require('node:worker_threads');\nconst a = new Int32Array(workerData);\n";

/** Lints `body` (after a shared `a`), applies the fix of the one `rule` finding, returns the new body. */
function fixed(body: string, rule: RuleId, head = HEAD): string {
  const src = head + body;
  const found = analyseSource(src, 'f.js').filter((f) => f.rule === rule);
  assert.equal(found.length, 1, `expected one ${rule} in:\n${body}\ngot ${JSON.stringify(analyseSource(src, 'f.js').map((f) => f.rule))}`);
  const fix = found[0]!.fix;
  assert.ok(fix, `${rule} has a quick fix`);
  const out = applyEdits(src, fix.edits);
  assert.doesNotThrow(() => parse(out, { sourceType: 'unambiguous' }), `fixed text parses:\n${out}`);
  assert.equal(analyseSource(out, 'f.js').filter((f) => f.rule === rule).length, 0, `fix removes the finding:\n${out}`);
  return out.slice(head.length);
}

test('a[i]++ becomes Atomics.add(a, i, 1)', () => {
  assert.equal(fixed('a[0]++;\n', 'shared-plain-rmw'), 'Atomics.add(a, 0, 1);\n');
});

test('a[i]-- and a[i] -= v become Atomics.sub', () => {
  assert.equal(fixed('a[1]--;\n', 'shared-plain-rmw'), 'Atomics.sub(a, 1, 1);\n');
  assert.equal(fixed('a[1] -= n * 2;\n', 'shared-plain-rmw'), 'Atomics.sub(a, 1, n * 2);\n');
});

test('a[i] += v and a[i] = a[i] + v become Atomics.add(a, i, v)', () => {
  assert.equal(fixed('a[2] += 5;\n', 'shared-plain-rmw'), 'Atomics.add(a, 2, 5);\n');
  assert.equal(fixed('a[2] = a[2] + delta;\n', 'shared-plain-rmw'), 'Atomics.add(a, 2, delta);\n');
  assert.equal(fixed('a[2] = 3 + a[2];\n', 'shared-plain-rmw'), 'Atomics.add(a, 2, 3);\n');
  assert.equal(fixed('a[3] |= 4;\n', 'shared-plain-rmw'), 'Atomics.or(a, 3, 4);\n');
});

test('prefix ++ used as a value keeps its new-value meaning', () => {
  assert.equal(fixed('const n = ++a[0];\n', 'shared-plain-rmw'), 'const n = (Atomics.add(a, 0, 1) + 1);\n');
  assert.equal(fixed('const o = a[0]++;\n', 'shared-plain-rmw'), 'const o = Atomics.add(a, 0, 1);\n');
});

test('BigInt64Array increments use 1n', () => {
  const head = "const b = new BigInt64Array(new SharedArrayBuffer(8));\nmodule.exports = { b };\n";
  assert.equal(fixed('b[0]++;\n', 'shared-plain-rmw', head), 'Atomics.add(b, 0, 1n);\n');
});

test('a plain write becomes Atomics.store and a plain read Atomics.load', () => {
  const body = 'Atomics.add(a, 0, 1);\na[0] = 7;\n';
  assert.equal(fixed(body, 'mixed-atomic-plain-access'), 'Atomics.add(a, 0, 1);\nAtomics.store(a, 0, 7);\n');
  const read = 'Atomics.add(a, 0, 1);\nconsole.log(a[0] > 3);\n';
  assert.equal(fixed(read, 'mixed-atomic-plain-access'), 'Atomics.add(a, 0, 1);\nconsole.log(Atomics.load(a, 0) > 3);\n');
});

test('load + store becomes compareExchange', () => {
  const body = 'function claim() {\n  if (Atomics.load(a, 0) === 0) {\n    Atomics.store(a, 0, 1);\n    return true;\n  }\n  return false;\n}\n';
  assert.equal(fixed(body, 'check-then-act'), 'function claim() {\n  if (Atomics.compareExchange(a, 0, 0, 1) === 0) {\n    return true;\n  }\n  return false;\n}\n');
  assert.equal(fixed('if (Atomics.load(a, 2) === 0) Atomics.store(a, 2, 1);\n', 'check-then-act'), 'if (Atomics.compareExchange(a, 2, 0, 1) === 0) {}\n');
  const spin = 'while (Atomics.load(a, 1) !== 0) Atomics.wait(a, 1, 1);\nAtomics.store(a, 1, 1);\nwork();\n';
  assert.equal(fixed(spin, 'check-then-act'), 'while (Atomics.compareExchange(a, 1, 0, 1) !== 0) Atomics.wait(a, 1, 1);\nwork();\n');
});

test('the missing notify is added after the unlock store, with the same indentation', () => {
  const body = 'function lock() {\n  while (Atomics.compareExchange(a, 0, 0, 1) !== 0) Atomics.wait(a, 0, 1);\n}\nfunction unlock() {\n  Atomics.store(a, 0, 0);\n}\n';
  assert.equal(fixed(body, 'unlock-without-notify'), body.replace('  Atomics.store(a, 0, 0);\n', '  Atomics.store(a, 0, 0);\n  Atomics.notify(a, 0, 1);\n'));
  const flag = 'function go() {\n  Atomics.store(a, 1, 1);\n}\nfunction wait1() {\n  while (Atomics.load(a, 1) === 0) Atomics.wait(a, 1, 0);\n}\n';
  assert.equal(fixed(flag, 'unlock-without-notify'), flag.replace('  Atomics.store(a, 1, 1);\n', '  Atomics.store(a, 1, 1);\n  Atomics.notify(a, 1);\n'));
});

test('a bare wait is wrapped in a loop that re-checks the value', () => {
  const body = 'function waitReady() {\n  Atomics.wait(a, 0, 0);\n  Atomics.store(a, 1, 1);\n}\n';
  assert.equal(fixed(body, 'wait-without-loop'), 'function waitReady() {\n  while (Atomics.load(a, 0) === 0) Atomics.wait(a, 0, 0);\n  Atomics.store(a, 1, 1);\n}\n');
});

test('TypeScript: fixes keep the original array expression text', () => {
  const src = 'export function f(view: Int32Array<SharedArrayBuffer>): void {\n  view![0] += 2;\n}\n';
  const f = analyseSource(src, 'f.ts').find((x) => x.rule === 'shared-plain-rmw')!;
  const out = applyEdits(src, f.fix!.edits);
  assert.equal(out, 'export function f(view: Int32Array<SharedArrayBuffer>): void {\n  Atomics.add(view!, 0, 2);\n}\n');
  assert.doesNotThrow(() => parse(out, { sourceType: 'module', plugins: ['typescript'] }));
});

test('no fix where no single call is equivalent (the value of a += is used, *=)', () => {
  const src = HEAD + 'const x = (a[0] += 2);\na[1] *= 2;\n';
  const found = analyseSource(src, 'f.js').filter((f) => f.rule === 'shared-plain-rmw');
  assert.equal(found.length, 2);
  assert.ok(found.every((f) => !f.fix));
});
