// Every fixture under test/fixtures/lint (and its corpus/ folder of realistic worker code: bad-*
// files hold bugs, ok-* files are correct code) marks its expected findings with
// `expect: rule[, rule]` on the flagged line; every other line must stay clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseSource, RULE_IDS, RULES } from '../../src/core/lint/index';
import { parseSource } from '../../src/core/lint/parse';

const dir = join(import.meta.dirname, '../fixtures/lint');
const SOURCE = /\.[mc]?[jt]sx?$/;
/** Fixture files relative to `dir`: the top level and corpus/. */
const fixtureFiles = [
  ...readdirSync(dir).filter((n) => SOURCE.test(n)),
  ...readdirSync(join(dir, 'corpus')).filter((n) => SOURCE.test(n)).map((n) => `corpus/${n}`),
].sort();

function expected(source: string): string[] {
  const out: string[] = [];
  source.split('\n').forEach((text, i) => {
    const m = /expect: ([\w, -]+)/.exec(text);
    if (m) for (const rule of m[1]!.split(',').map((s) => s.trim()).filter(Boolean)) out.push(`${i + 1} ${rule}`);
  });
  return out.sort();
}

for (const name of fixtureFiles) {
  test(`fixture ${name}: findings exactly on the marked lines`, () => {
    const source = readFileSync(join(dir, name), 'utf8');
    const got = analyseSource(source, name).map((f) => `${f.line} ${f.rule}`).sort();
    assert.deepEqual(got, expected(source));
  });
}

test('the corpus has buggy files with marked findings and correct files with none', () => {
  const corpus = fixtureFiles.filter((n) => n.startsWith('corpus/'));
  const bad = corpus.filter((n) => n.startsWith('corpus/bad-'));
  const ok = corpus.filter((n) => n.startsWith('corpus/ok-'));
  assert.equal(bad.length + ok.length, corpus.length, 'corpus files are named bad-* or ok-*');
  assert.ok(bad.length >= 30 && ok.length >= 30, `${bad.length} bad, ${ok.length} ok`);
  for (const n of bad) assert.ok(expected(readFileSync(join(dir, n), 'utf8')).length > 0, `${n} marks its bug`);
  for (const n of ok) assert.deepEqual(expected(readFileSync(join(dir, n), 'utf8')), [], `${n} is correct code`);
  // A file the analyser cannot parse would pass as clean without being looked at.
  for (const n of corpus) {
    const parsed = parseSource(readFileSync(join(dir, n), 'utf8'), n);
    assert.ok(parsed.program && parsed.errorCount === 0, `${n} parses without recovered errors`);
  }
});

test('decorated classes are analysed (TypeScript, and JavaScript compiled with decorators)', () => {
  const body = 'class C {\n  constructor(sab) { this.v = new Int32Array(sab); }\n  @logged\n  inc() {\n    this.v[0]++;\n    Atomics.add(this.v, 1, 1);\n  }\n}\n';
  for (const file of ['d.ts', 'd.js']) {
    assert.ok(parseSource(body, file).program, `${file} parses`);
    assert.deepEqual(analyseSource(body, file).map((f) => [f.line, f.rule]), [[5, 'shared-plain-rmw']], file);
  }
});

test('every rule has a fixture that triggers it and a docs page', () => {
  const all = fixtureFiles.map((n) => readFileSync(join(dir, n), 'utf8')).join('\n');
  const docs = readdirSync(join(import.meta.dirname, '../../docs/rules'));
  for (const id of RULE_IDS) {
    assert.match(all, new RegExp(`expect: [\\w, -]*\\b${id}\\b`), `no positive fixture for ${id}`);
    assert.ok(docs.includes(`${id}.md`), `no docs/rules/${id}.md`);
    assert.ok(RULES[id].message.length > 40, `${id} message is a sentence`);
  }
});

test('findings carry 1-based ranges, offsets and related sites', () => {
  const src = readFileSync(join(dir, 'unlock-without-notify.js'), 'utf8');
  const f = analyseSource(src, 'u.js').find((x) => x.rule === 'unlock-without-notify')!;
  assert.equal(src.slice(f.start, f.end), 'Atomics.store(m, 0, 0)');
  assert.deepEqual([f.line, f.column, f.endLine, f.endColumn], [9, 3, 9, 25]);
  assert.equal(f.related.length, 1);
  assert.equal(f.related[0]!.line, 6);
  assert.equal(f.severity, 'error');
});

test('disabled rules are skipped', () => {
  const src = readFileSync(join(dir, 'shared-plain-rmw.js'), 'utf8');
  assert.ok(analyseSource(src, 'a.js').length > 0);
  assert.equal(analyseSource(src, 'a.js', { disabledRules: ['shared-plain-rmw'] }).length, 0);
});

test('files without Atomics, SharedArrayBuffer or typed arrays are not even parsed', () => {
  assert.deepEqual(analyseSource('this is not JavaScript at all {{{', 'x.js'), []);
});

test('TypeScript syntax in a .ts file and JSX in a .tsx file are understood', () => {
  const ts = 'export const v = new Int32Array(new SharedArrayBuffer(4)) as Int32Array;\nfunction f<T>(x: T): T { return x; }\nv[0]++;\n';
  assert.deepEqual(analyseSource(ts, 'a.ts').map((f) => f.rule), ['shared-plain-rmw']);
  const tsx = 'const v = new Int32Array(new SharedArrayBuffer(4));\nexport const C = () => <div>{v[0]++}</div>;\n';
  assert.deepEqual(analyseSource(tsx, 'a.tsx').map((f) => f.rule), ['shared-plain-rmw']);
});

test('ES modules: imported workerData is a payload carrying shared memory', () => {
  const src = "import { workerData } from 'node:worker_threads';\nconst c = new Int32Array(workerData.sab);\nc[0] += 1;\n";
  assert.deepEqual(analyseSource(src, 'w.mjs').map((f) => [f.line, f.rule]), [[3, 'shared-plain-rmw']]);
});

test('message payloads: parentPort.on("message") and onmessage data carry shared buffers', () => {
  const src = [
    "const { parentPort } = require('node:worker_threads');",
    "parentPort.on('message', (msg) => { const a = new Int32Array(msg.sab); a[0]++; });",
    'self.onmessage = (e) => { const b = new Int32Array(e.data); b[1] += 2; };',
  ].join('\n');
  assert.deepEqual(analyseSource(src, 'w.js').map((f) => f.line), [2, 3]);
});

test('a buffer that never leaves a single-threaded file is not treated as contended', () => {
  const src = 'const sab = new SharedArrayBuffer(16);\nconst v = new Int32Array(sab);\nv[0]++;\n';
  assert.deepEqual(analyseSource(src, 'solo.js'), []);
  assert.deepEqual(analyseSource(src + 'module.exports = { sab };\n', 'shared.js').map((f) => f.rule), ['shared-plain-rmw']);
});
