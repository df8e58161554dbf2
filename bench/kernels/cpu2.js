// CPU-bound kernel: two workers each run a tight arithmetic loop; no calls in the hot path.
// Prints its own compute time (start line to last result, see _start.js) as `compute-ms: N`.
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const ITERS = Number(process.env.ITERS || 8e8);

function crunch(n) {
  let x = 0;
  // Chunks keep i * 7 a small integer (past 2^31 V8 switches to doubles).
  for (let done = 0; done < n; done += 1e8) {
    const m = Math.min(1e8, n - done);
    for (let i = 0; i < m; i++) x += (i * 7) % 13;
  }
  return x;
}

if (isMainThread) runWorkers(__filename, 2, () => ITERS / 2);
else whenStarted(crunch);
