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

test('a bare awaited waitAsync is wrapped in the same re-check loop', () => {
  const body = 'async function recv() {\n  await Atomics.waitAsync(a, 0, 0).value;\n  return Atomics.load(a, 1);\n}\n';
  assert.equal(fixed(body, 'wait-without-loop'), 'async function recv() {\n  while (Atomics.load(a, 0) === 0) await Atomics.waitAsync(a, 0, 0).value;\n  return Atomics.load(a, 1);\n}\n');
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

test('every quick fix on the corpus parses, removes its finding and adds no other finding', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { analyserPlugins } = await import('../../src/core/lint/parse');
  const dir = join(import.meta.dirname, '../fixtures/lint/corpus');
  let applied = 0;
  for (const name of readdirSync(dir).filter((n) => /\.[mc]?[jt]sx?$/.test(n))) {
    const src = readFileSync(join(dir, name), 'utf8');
    const before = analyseSource(src, name);
    for (const f of before) {
      if (!f.fix) continue;
      const out = applyEdits(src, f.fix.edits);
      assert.doesNotThrow(() => parse(out, { sourceType: 'unambiguous', allowAwaitOutsideFunction: true, plugins: analyserPlugins(name) }), `${name}:${f.line} ${f.rule} fix parses`);
      const after = analyseSource(out, name);
      // The fixed range, in the new text: from the first edit's start to the end of what the edits put in.
      const first = Math.min(...f.fix.edits.map((e) => e.start));
      const grown = f.fix.edits.reduce((d, e) => d + e.newText.length - (e.end - e.start), 0);
      const last = Math.max(...f.fix.edits.map((e) => e.end)) + grown;
      assert.ok(!after.some((x) => x.rule === f.rule && x.start < last && x.end > first), `${name}:${f.line} ${f.rule}: the fix removes its finding`);
      // Other rules gain nothing, except what the fix makes visible: an array it put under Atomics now has its other
      // plain accesses checked against that cell, a plain unlock turned into Atomics.store shows the notify it
      // was missing all along, and a plain busy-wait turned into Atomics.load is still a busy-wait.
      const count = (list: typeof before, rule: string): number => list.filter((x) => x.rule === rule).length;
      const surfaced = (rule: string): boolean =>
        (f.rule === 'shared-plain-rmw' && rule === 'mixed-atomic-plain-access') ||
        (f.rule === 'mixed-atomic-plain-access' && rule === 'unlock-without-notify') ||
        (f.rule === 'plain-spin-read' && rule === 'spin-without-backoff');
      for (const rule of new Set(after.map((x) => x.rule))) if (rule !== f.rule && !surfaced(rule)) assert.ok(count(after, rule) <= count(before, rule), `${name}:${f.line} ${f.rule}: the fix adds a ${rule} finding`);
      applied++;
    }
  }
  assert.ok(applied >= 25, `only ${applied} fixes applied`);
});

test('the notify goes after a comment that ends the store line', () => {
  const body = 'function lock() {\n  while (Atomics.compareExchange(a, 0, 0, 1) !== 0) Atomics.wait(a, 0, 1);\n}\nfunction unlock() {\n  Atomics.store(a, 0, 0); // release\n}\n';
  assert.equal(fixed(body, 'unlock-without-notify'), body.replace('  Atomics.store(a, 0, 0); // release\n', '  Atomics.store(a, 0, 0); // release\n  Atomics.notify(a, 0, 1);\n'));
});

test('a semaphore post (add) gets a notify of every waiter', () => {
  const body = 'function post() {\n  Atomics.add(a, 0, 1);\n}\nfunction take() {\n  for (;;) {\n    const n = Atomics.load(a, 0);\n    if (n > 0 && Atomics.compareExchange(a, 0, n, n - 1) === n) return;\n    Atomics.wait(a, 0, 0);\n  }\n}\n';
  assert.equal(fixed(body, 'unlock-without-notify'), body.replace('  Atomics.add(a, 0, 1);\n', '  Atomics.add(a, 0, 1);\n  Atomics.notify(a, 0);\n'));
});

test('no fix where it would change meaning', () => {
  const kinds = (body: string, rule: RuleId): boolean[] => analyseSource(HEAD + body, 'f.js').filter((f) => f.rule === rule).map((f) => !!f.fix);
  // A timed wait wrapped in a re-check loop would never time out.
  assert.deepEqual(kinds('function f() {\n  Atomics.wait(a, 0, 0, 500);\n  return Atomics.load(a, 1);\n}\nAtomics.store(a, 0, 1);\n', 'wait-without-loop'), [false]);
  // Folding a later store into the check would mark a one-time init done before it ran.
  assert.deepEqual(kinds('function init() {\n  if (Atomics.load(a, 0) === 0) {\n    build();\n    Atomics.store(a, 0, 1);\n  }\n}\nfunction build() {}\n', 'check-then-act'), [false]);
  // Taking from a count has no one-call equivalent.
  assert.deepEqual(kinds('function take() {\n  if (Atomics.load(a, 0) > 0) Atomics.sub(a, 0, 1);\n}\n', 'check-then-act'), [false]);
  // Atomics.store returns the value converted to an integer, the assignment returns it unconverted.
  assert.deepEqual(kinds('Atomics.add(a, 0, 1);\nconst x = (a[0] = 1.5);\n', 'mixed-atomic-plain-access'), [false]);
});

test('a comma expression keeps its parentheses in the fixed call', () => {
  assert.equal(fixed('a[0] += (log(), 2);\n', 'shared-plain-rmw'), 'Atomics.add(a, 0, (log(), 2));\n');
  assert.equal(fixed('a[i, 0]++;\n', 'shared-plain-rmw'), 'Atomics.add(a, (i, 0), 1);\n');
});
