// CPU-bound kernel: two workers each run a tight arithmetic loop; no calls in the hot path.
// Prints its own compute time (worker start to last result) as `compute-ms: N`.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ITERS = Number(process.env.ITERS || 400e6);

function crunch(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += (i * 7) % 13;
  return x;
}

if (isMainThread) {
  const t0 = performance.now();
  let done = 0;
  for (let w = 0; w < 2; w++) {
    new Worker(__filename, { workerData: ITERS / 2 }).on('message', () => {
      if (++done === 2) console.log(`compute-ms: ${(performance.now() - t0).toFixed(1)}`);
    });
  }
} else {
  parentPort.postMessage(crunch(workerData));
}
