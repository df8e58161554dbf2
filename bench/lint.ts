// Atomics lint speed: lints a generated 2,000-line worker program (locks, counters, waits,
// typed arrays, TypeScript) and prints the median time. Target: ≤ 20 ms on the 2-core CI box.
// Usage: node --import tsx bench/lint.ts [--ts]
import { analyseSource } from '../src/core/lint/index';
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (process.argv[1] && /bench[\\/]lint\.ts$/.test(process.argv[1])) {
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
