// A long run for the big-program benchmark: W workers keep a call-heavy workload with varied
// stacks busy until the file named by STOP_FILE exists (or SECONDS pass), then all exit.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { existsSync } = require('node:fs');
const W = Number(process.env.WORKERS || 8);
const SECONDS = Number(process.env.SECONDS || 3600);

function leaf(i) {
  return (i * 7) % 13;
}
function mid(i, depth) {
  return depth === 0 ? leaf(i) : mid(i + 1, depth - 1) + 1;
}
function top(i) {
  return mid(i, i % 8);
}
function burst(n, from) {
  let s = 0;
  for (let i = from; i < from + n; i++) s += top(i);
  return s;
}

if (isMainThread) {
  const workers = [];
  const sab = new SharedArrayBuffer(4);
  const stop = new Int32Array(sab);
  const t0 = Date.now();
  for (let w = 0; w < W; w++) workers.push(new Worker(__filename, { workerData: sab }));
  const timer = setInterval(() => {
    if ((process.env.STOP_FILE && existsSync(process.env.STOP_FILE)) || Date.now() - t0 > SECONDS * 1000) {
      Atomics.store(stop, 0, 1);
      clearInterval(timer);
    }
  }, 100);
  let done = 0;
  for (const w of workers) w.on('exit', () => ++done === W && console.log(`ran ${((Date.now() - t0) / 1000).toFixed(1)} s with ${W} workers`));
} else {
  const stop = new Int32Array(workerData);
  let s = 0;
  for (let k = 0; Atomics.load(stop, 0) === 0; k++) s += burst(20000, k);
  parentPort.postMessage(s);
}
