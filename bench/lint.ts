// Atomics lint speed: lints a generated 2,000-line worker program (locks, counters, waits,
// typed arrays, TypeScript) and prints the median time. Target: ≤ 20 ms on the 2-core CI box.
// With --scale it also lints 2k/7k/21k-line files of three kinds and prints the times, so a
// superlinear pass shows up: the realistic program above, the corpus's CommonJS programs repeated
// with renamed top-level names (an Atomics call every ~5 lines), dense Atomics code (one a line),
// one worker loop holding everything, and many functions claiming the same few cells.
// Usage: node --import tsx bench/lint.ts [--ts] [--scale]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forEachChild, type Node } from '../src/core/lint/ast';
import { analyseSource } from '../src/core/lint/index';
import { buildModel } from '../src/core/lint/model';
import { parseSource } from '../src/core/lint/parse';

/** A realistic 2,000-line file: each block is a small worker routine over shared memory. */
export function makeLintBenchSource(lines = 2000, ts = false): string {
  const head = [
    "const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');",
    'const sab = new SharedArrayBuffer(1024);',
    'const lockWord = new Int32Array(sab, 0, 4);',
    'const counters = new Int32Array(sab, 16, 64);',
    'function lock(l) {',
    '  while (Atomics.compareExchange(l, 0, 0, 1) !== 0) Atomics.wait(l, 0, 1);',
    '}',
    'function unlock(l) {',
    '  Atomics.store(l, 0, 0);',
    '  Atomics.notify(l, 0, 1);',
    '}',
  ];
  const p = ts ? ': Int32Array' : '';
  const block = (k: number): string[] => [
    `function task${k}(view${p}, n${ts ? ': number' : ''}) {`,
    `  const local = new Float64Array(n);`,
    `  let sum = 0;`,
    `  for (let i = 0; i < n; i++) {`,
    `    local[i] = Math.sqrt(i * ${k + 1});`,
    `    sum += local[i];`,
    `  }`,
    `  lock(lockWord);`,
    `  try {`,
    `    counters[${k % 64}] += 1;`,
    `  } finally {`,
    `    unlock(lockWord);`,
    `  }`,
    `  if (Atomics.load(view, ${k % 8}) === 0) Atomics.add(view, ${k % 8}, 1);`,
    `  while (Atomics.load(view, 9) === 0) Atomics.wait(view, 9, 0);`,
    `  const msg = { id: ${k}, sum, at: Date.now() };`,
    `  parentPort?.postMessage(msg);`,
    `  return sum > ${k} ? counters[${k % 64}] : view[${k % 8}];`,
    `}`,
    ``,
  ];
  const out = [...head];
  for (let k = 0; out.length + 20 <= lines - 2; k++) out.push(...block(k));
  while (out.length < lines - 2) out.push(`// padding line ${out.length}`);
  out.push('if (!isMainThread) task0(new Int32Array(workerData), 100);', 'else new Worker(__filename, { workerData: sab });');
  return out.join('\n') + '\n';
}

/**
 * One corpus program as a piece of a bigger file: every name it declares at top level gets `_k`
 * appended (its references follow; a shorthand `{ sab }` becomes `{ sab: sab_k }`), so copies coexist.
 */
export function renameTopLevel(source: string, file: string, k: number): string {
  const program = parseSource(source, file).program;
  if (!program) throw new Error(`${file} does not parse`);
  const m = buildModel(source, program);
  const top = new Set(m.scopes.scopes.get(program)?.names?.values() ?? []);
  const shorthand = new Set<number>();
  const walk = (n: Node): void => {
    if (n.type === 'ObjectProperty' && n.shorthand) {
      const v = n.value as Node;
      shorthand.add((v.type === 'AssignmentPattern' ? (v.left as Node) : v).start);
    }
    forEachChild(n, walk);
  };
  walk(program);
  const edits: { at: number; end: number; text: string }[] = [];
  const rename = (id: Node, name: string): void => {
    edits.push({ at: id.start, end: id.start + name.length, text: shorthand.has(id.start) ? `${name}: ${name}_${k}` : `${name}_${k}` });
  };
  for (const [id, b] of m.scopes.declared) if (top.has(b)) rename(id, b.name);
  for (const [id, b] of m.refs) if (top.has(b)) rename(id, b.name);
  edits.sort((a, b) => b.at - a.at);
  let out = source;
  let last = Infinity;
  for (const e of edits) {
    if (e.at >= last) continue;
    out = out.slice(0, e.at) + e.text + out.slice(e.end);
    last = e.at;
  }
  return out;
}

/** The corpus's CommonJS programs (no import/export), renamed and repeated up to `lines` lines. */
export function makeCorpusLintSource(lines: number): string {
  const dir = join(import.meta.dirname, '..', 'test', 'fixtures', 'lint', 'corpus');
  const files = readdirSync(dir).filter((n) => n.endsWith('.js')).sort()
    .map((n) => ({ n, text: readFileSync(join(dir, n), 'utf8') }))
    .filter((f) => !/^\s*(import|export)\b/m.test(f.text) && !f.text.startsWith('#!'));
  const out: string[] = [];
  for (let k = 0; ; k++) {
    const f = files[k % files.length]!;
    const copy = renameTopLevel(f.text, f.n, k).replace(/\n$/, '').split('\n');
    if (out.length + copy.length > lines) break;
    out.push(...copy);
  }
  while (out.length < lines) out.push(`// padding line ${out.length}`);
  return out.join('\n') + '\n';
}

/** Dense Atomics code: a ticket lock, a ring, flags and counters, an Atomics call on nearly every line. */
export function makeDenseLintSource(lines: number): string {
  const head = [
    "const { Worker, isMainThread, workerData } = require('node:worker_threads');",
    'const sab = isMainThread ? new SharedArrayBuffer(4096) : workerData;',
    'const state = new Int32Array(sab, 0, 16);',
    'const ring = new Int32Array(sab, 64, 256);',
  ];
  const block = (k: number): string[] => [
    `const lock${k} = new Int32Array(sab, ${1088 + (k % 64) * 4}, 1);`,
    `function step${k}(v) {`,
    `  while (Atomics.compareExchange(lock${k}, 0, 0, 1) !== 0) Atomics.wait(lock${k}, 0, 1);`,
    `  const t = Atomics.add(state, ${k % 8}, 1);`,
    `  Atomics.store(ring, (t + ${k}) & 255, v);`,
    `  Atomics.add(state, 9, 1);`,
    `  Atomics.store(lock${k}, 0, 0);`,
    `  Atomics.notify(lock${k}, 0, 1);`,
    `  if (Atomics.load(state, 10) === ${k}) Atomics.notify(state, 10);`,
    `  while (Atomics.load(state, 11) === 0) Atomics.wait(state, 11, 0, 50);`,
    `  Atomics.sub(state, 12, 1);`,
    `  return Atomics.load(ring, ${k % 256}) + Atomics.load(state, 13);`,
    `}`,
  ];
  // Every fourth block has a bug: a plain write to a cell others reach with Atomics, or a plain count.
  const bug = (k: number): string[] => (k % 8 === 0 ? [`function peek${k}() { ring[${(k * 7) % 256}] = 0; }`] : k % 8 === 4 ? [`function bump${k}() { state[15]++; }`] : []);
  const out = [...head];
  for (let k = 0; out.length + 15 <= lines - 2; k++) out.push(...block(k), ...bug(k));
  while (out.length < lines - 2) out.push(`Atomics.add(state, 14, 1);`);
  out.push('if (!isMainThread) step0(1);', 'else new Worker(__filename, { workerData: sab });');
  return out.join('\n') + '\n';
}

/** One worker loop holding all the code: lock, update, unlock, wait, try/finally, repeated (every wait sits in the same big loop). */
export function makeLoopLintSource(lines: number): string {
  const out = [
    "const { workerData } = require('node:worker_threads');",
    'const l = new Int32Array(workerData.lock);',
    'const st = new Int32Array(workerData.state);',
    'function main() {',
    '  while (Atomics.load(st, 0) === 0) {',
  ];
  for (let k = 0; out.length + 6 <= lines - 3; k++) {
    out.push(
      '    while (Atomics.compareExchange(l, 0, 0, 1) !== 0) Atomics.wait(l, 0, 1);',
      `    st[${1 + (k % 60)}] += ${k};`,
      '    Atomics.store(l, 0, 0);',
      '    Atomics.notify(l, 0, 1);',
      `    Atomics.wait(st, ${1 + ((k * 7) % 60)}, 0);`,
      '    try { Atomics.add(st, 61, 1); } finally { Atomics.sub(st, 62, 1); }',
    );
  }
  while (out.length < lines - 3) out.push(`    // padding line ${out.length}`);
  out.push('  }', '}', 'main();');
  return out.join('\n') + '\n';
}

/** Many small functions claiming the same few cells (load-then-store, semaphore takes), with their findings. */
export function makeClaimsLintSource(lines: number): string {
  const out = [
    "const { workerData } = require('node:worker_threads');",
    'const sem = new Int32Array(workerData.sem);',
    'const flag = new Int32Array(workerData.flag);',
    'const data = new Int32Array(workerData.data);',
  ];
  for (let k = 0; out.length + 8 <= lines; k++) {
    out.push(
      `function w${k}() {`,
      '  while (Atomics.load(sem, 0) === 0) Atomics.wait(sem, 0, 0);',
      '  Atomics.sub(sem, 0, 1);',
      `  while (Atomics.load(flag, ${k % 4}) === 1) Atomics.wait(flag, ${k % 4}, 1);`,
      `  Atomics.store(flag, ${k % 4}, 1);`,
      `  data[${k % 16}] = Atomics.load(data, ${(k + 1) % 16});`,
      `  if (Atomics.load(flag, 5) === 0) Atomics.store(flag, 5, ${k});`,
      '}',
    );
  }
  while (out.length < lines) out.push(`// padding line ${out.length}`);
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Lints each kind of generated file at three sizes and prints the times (one warm-up run, then the best of three). */
function scale(): void {
  const kinds: [string, (n: number) => string][] = [
    ['realistic', (n) => makeLintBenchSource(n)], ['corpus', makeCorpusLintSource], ['dense', makeDenseLintSource], ['one-loop', makeLoopLintSource], ['claims', makeClaimsLintSource],
  ];
  for (const [kind, make] of kinds) {
    for (const lines of [2000, 7000, 21000]) {
      const src = make(lines);
      const atomics = src.match(/Atomics\.\w+\(/g)?.length ?? 0;
      let findings = analyseSource(src, `${kind}.js`).length;
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        findings = analyseSource(src, `${kind}.js`).length;
        best = Math.min(best, performance.now() - t);
      }
      console.log(`lint ${kind} ${lines} lines, ${atomics} Atomics calls, ${findings} findings: ${best.toFixed(1)} ms`);
    }
  }
}

if (process.argv[1] && /bench[\\/]lint\.ts$/.test(process.argv[1]) && process.argv.includes('--scale')) scale();
else if (process.argv[1] && /bench[\\/]lint\.ts$/.test(process.argv[1])) {
  const ts = process.argv.includes('--ts');
  const src = makeLintBenchSource(2000, ts);
  const file = ts ? 'bench.ts' : 'bench.js';
  let findings = 0;
  for (let i = 0; i < 10; i++) findings = analyseSource(src, file).length;
  // Alternate the full lint with a bare parse of the same text, so a busy machine shows up in both.
  const lint: number[] = [];
  const parse: number[] = [];
  for (let i = 0; i < 40; i++) {
    let t = performance.now();
    analyseSource(src, file);
    lint.push(performance.now() - t);
    t = performance.now();
    parseSource(src, file);
    parse.push(performance.now() - t);
  }
  const med = median(lint);
  const p = median(parse);
  console.log(
    `lint ${file}: ${src.split('\n').length - 1} lines, ${findings} findings, median ${med.toFixed(2)} ms over ${lint.length} runs ` +
      `(target ≤ 20 ms: ${med <= 20 ? 'OK' : 'SLOW'}); bare @babel/parser parse ${p.toFixed(2)} ms, lint/parse ${(med / p).toFixed(2)}×`,
  );
}
