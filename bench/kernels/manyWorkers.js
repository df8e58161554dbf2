// Many workers at once (64 by default): each sums a series for a while, then reports.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const W = Number(process.env.WORKERS || 64);
const N = Number(process.env.N || 20e6);

function series(n) {
  let s = 0;
  for (let i = 1; i < n; i++) s += 1 / (i * i);
  return s;
}

if (isMainThread) {
  const t0 = performance.now();
  let done = 0;
  for (let w = 0; w < W; w++) {
    new Worker(__filename, { workerData: N }).on('message', () => {
      if (++done === W) console.log(`compute-ms: ${(performance.now() - t0).toFixed(1)} (${W} workers)`);
    });
  }
} else {
  parentPort.postMessage(series(workerData));
}
