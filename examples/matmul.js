// Row-partitioned matrix multiply C = A × B on SharedArrayBuffers: each worker computes a
// contiguous block of rows of C. Deterministic inputs; prints a checksum.
// Usage: WORKERS=4 node examples/matmul.js [N]
'use strict';
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');

/** Fills a matrix with a deterministic pattern. */
function fill(m, n, seed) {
  for (let i = 0; i < n * n; i++) m[i] = ((i * 31 + seed * 17) % 97) / 97;
}

/** Multiplies rows [from, to) of A × B into C (i-k-j order for cache friendliness). */
function multiplyRows(a, b, c, n, from, to) {
  for (let i = from; i < to; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[row + j] += aik * b[bk + j];
    }
  }
}

function checksum(c) {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i] * ((i % 7) + 1);
  return s;
}

if (isMainThread) {
  const n = Number(process.argv[2] ?? 360);
  const workers = Math.max(1, Number(process.env.WORKERS ?? 4));
  const bytes = n * n * Float64Array.BYTES_PER_ELEMENT;
  const [sa, sb, sc] = [new SharedArrayBuffer(bytes), new SharedArrayBuffer(bytes), new SharedArrayBuffer(bytes)];
  fill(new Float64Array(sa), n, 1);
  fill(new Float64Array(sb), n, 2);
  const rowsPer = Math.ceil(n / workers);
  let done = 0;
  for (let w = 0; w < workers; w++) {
    const from = w * rowsPer;
    const to = Math.min(n, from + rowsPer);
    const worker = new Worker(__filename, { workerData: { sa, sb, sc, n, from, to }, name: `matmul-${w}` });
    worker.on('message', () => {
      if (++done === workers) console.log(`matmul ${n}x${n} with ${workers} workers: checksum ${checksum(new Float64Array(sc)).toFixed(3)}`);
    });
    worker.on('error', (e) => {
      console.error(e);
      process.exitCode = 1;
    });
  }
} else {
  const { sa, sb, sc, n, from, to } = workerData;
  multiplyRows(new Float64Array(sa), new Float64Array(sb), new Float64Array(sc), n, from, to);
  parentPort.postMessage('done');
}
