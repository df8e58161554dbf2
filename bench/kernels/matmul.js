// Shared typed-array kernel: C = A × B on shared Float64Arrays, rows split across 2 workers
// (the race detector's worst case: every element access is a shared-memory access).
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const N = Number(process.env.N || 256);
const REPS = Number(process.env.REPS || 40);

function multiplyRows(a, b, c, n, from, to) {
  for (let i = from; i < to; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
}

if (isMainThread) {
  const bytes = N * N * 8;
  const sa = new SharedArrayBuffer(bytes);
  const sb = new SharedArrayBuffer(bytes);
  const sc = new SharedArrayBuffer(bytes);
  const a = new Float64Array(sa);
  const b = new Float64Array(sb);
  for (let i = 0; i < N * N; i++) {
    a[i] = (i % 17) * 0.5;
    b[i] = (i % 13) * 0.25;
  }
  runWorkers(__filename, 2, (w) => ({ sa, sb, sc, rows: [(w * N) / 2, ((w + 1) * N) / 2] }));
} else {
  whenStarted(({ sa, sb, sc, rows }) => {
    const a = new Float64Array(sa);
    const b = new Float64Array(sb);
    const c = new Float64Array(sc);
    for (let r = 0; r < REPS; r++) multiplyRows(a, b, c, N, rows[0], rows[1]);
    return 0;
  });
}
