// A long run for the big-program benchmark, shaped like a busy server: W workers each wake every
// 20 ms for a burst of calls with varied stacks, until the file named by STOP_FILE exists (or
// SECONDS pass). Idle and busy samples alike pile up over the run.
'use strict';
const { Worker, isMainThread, workerData } = require('node:worker_threads');
const { existsSync } = require('node:fs');
const W = Number(process.env.WORKERS || 32);
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
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const t0 = Date.now();
  let done = 0;
  for (let w = 0; w < W; w++) {
    new Worker(__filename, { workerData: stop.buffer }).on('exit', () => {
      if (++done === W) console.log(`ran ${((Date.now() - t0) / 1000).toFixed(1)} s with ${W} workers`);
    });
  }
  const timer = setInterval(() => {
    if ((process.env.STOP_FILE && existsSync(process.env.STOP_FILE)) || Date.now() - t0 > SECONDS * 1000) {
      Atomics.store(stop, 0, 1);
      clearInterval(timer);
    }
  }, 100);
} else {
  const stop = new Int32Array(workerData);
  let k = 0;
  let s = 0;
  const timer = setInterval(() => {
    if (Atomics.load(stop, 0) !== 0) return clearInterval(timer);
    s += burst(5000, k++);
  }, 20);
}
