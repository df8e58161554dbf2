// Feeds thousands of mutated and truncated JS/TS files (seeded PRNG, deterministic) through
// the analyser's throwing entry point and asserts it never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseSource } from '../../src/core/lint/index';

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ';', ',', '=', '+=', '++', '--', '=>', '...', '?.', '!', '<', '>', '`', '"', "'", '/*', '*/', '//', '\n',
  'Atomics.wait(', 'Atomics.notify(', 'Atomics.compareExchange(', 'Atomics.store(', 'Atomics.load(', 'Atomics.add(',
  'new SharedArrayBuffer(8)', 'new Int32Array(', 'new Float64Array(', 'workerData', 'e.data', 'isMainThread', 'new Worker(',
  'while (', 'for (;;)', 'if (', 'else', 'try {', '} finally {', 'return', 'throw', 'await', 'async', 'function', 'class X {',
  'lock(', 'unlock(', 'a[i]', 'a[0]++', 'x as any', ': Int32Array', '<T,>', 'enum E {', 'interface I {', '@dec', '#priv',
  'import', 'export', 'yield', 'static {', 'label:', 'break', 'continue', 'delete', 'typeof', 'void', '0n', '1e3', 'this',
  '// parprof-ignore-next-line', 'parentPort.on("message", (m) => {', 'const { sab } = workerData;', '= {', '[...', '})',
];

function mutate(src: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  let s = src;
  const steps = 1 + pick(4);
  for (let k = 0; k < steps; k++) {
    const at = pick(s.length + 1);
    switch (pick(6)) {
      case 0: s = s.slice(0, at); break; // truncate
      case 1: s = s.slice(0, at) + s.slice(Math.min(s.length, at + 1 + pick(40))); break; // delete a range
      case 2: s = s.slice(0, at) + TOKENS[pick(TOKENS.length)] + s.slice(at); break; // insert a token
      case 3: { const from = pick(s.length + 1); s = s.slice(0, at) + s.slice(from, from + pick(80)) + s.slice(at); break; } // duplicate
      case 4: { const lines = s.split('\n'); const i = pick(lines.length); const j = pick(lines.length); [lines[i], lines[j]] = [lines[j]!, lines[i]!]; s = lines.join('\n'); break; }
      default: s = s.slice(0, at) + String.fromCharCode(pick(0x3000)) + s.slice(at); break; // random char
    }
  }
  return s;
}

test('the analyser never throws on 4,000 mutated and truncated JS/TS files', () => {
  const dir = join(import.meta.dirname, '../fixtures/lint');
  const files = [...readdirSync(dir).map((n) => join(dir, n)), ...readdirSync(join(dir, 'corpus')).map((n) => join(dir, 'corpus', n))];
  const corpus = files.filter((f) => /\.[mc]?[jt]sx?$/.test(f)).map((f) => readFileSync(f, 'utf8'));
  const rnd = prng(0x5eed);
  const names = ['a.js', 'a.ts', 'a.mjs', 'a.tsx', 'a.cts'];
  let findings = 0;
  for (let n = 0; n < 4000; n++) {
    const base = corpus[n % corpus.length]!;
    const src = mutate(base, rnd);
    const file = names[n % names.length]!;
    try {
      findings += analyseSource(src, file).length;
    } catch (e) {
      assert.fail(`case ${n} (${file}) threw ${(e as Error).stack}\n--- source ---\n${src}`);
    }
  }
  // The mutated corpus still produces findings: the analyser did not just give up. (Measured against what the
  // unmutated files give for the same picks, about a fifth survive mutation: the corpus includes correct files
  // with no findings at all.)
  const intact = corpus.map((src) => analyseSource(src, 'a.ts').length);
  let expected = 0;
  for (let n = 0; n < 4000; n++) expected += intact[n % corpus.length]!;
  assert.ok(findings > expected * 0.15, `only ${findings} findings (intact files give ${expected})`);
});

test('the analyser never throws on pathological inputs', () => {
  const inputs = [
    '', 'Atomics', 'Atomics.wait(', 'Atomics.wait()', 'Atomics.add(...x)', 'new Int32Array', 'new Int32Array(new SharedArrayBuffer())[0]++',
    '('.repeat(2000) + 'Atomics' + ')'.repeat(2000), '['.repeat(3000), 'a' + '[0]'.repeat(500) + '++ // Int32Array',
    'const a = new Int32Array(new SharedArrayBuffer(4)); ' + 'a[0]++;\n'.repeat(2000),
    'function f(a = f()) { return f(a) } f(new Int32Array(new SharedArrayBuffer(4)))',
    'let a = b, b = a; Atomics.add(a, 0, 1); Atomics.add(b, 0, 1);', 'x = x; x[0]++; Atomics.load(x, 0)',
    'class A { #v = new Int32Array(new SharedArrayBuffer(4)); m() { this.#v[0]++; Atomics.add(this.#v, 0, 1) } }',
    '\uFEFF\u2028Atomics.wait(a,0,0)\u2029', 'with (o) { Atomics.store(a, 0, 1) }', '<div>{Atomics.load(a, 0)}</div>',
  ];
  for (const src of inputs) for (const file of ['p.js', 'p.ts', 'p.tsx']) assert.doesNotThrow(() => analyseSource(src, file), `${file}: ${src.slice(0, 60)}`);
});
