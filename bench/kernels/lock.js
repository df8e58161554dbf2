// Uncontended lock kernel: two workers each take and release their own Atomics mutex around
// a little work, many times: the lock instrumentation's cost without any waiting.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ROUNDS = Number(process.env.ROUNDS || 100000);

function lock(l, i) {
  while (Atomics.compareExchange(l, i, 0, 1) !== 0) Atomics.wait(l, i, 1);
}
function unlock(l, i) {
  Atomics.store(l, i, 0);
  Atomics.notify(l, i, 1);
}
function work(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x += (i * 7) % 13;
  return x;
}

if (isMainThread) {
  const sab = new SharedArrayBuffer(64);
  const t0 = performance.now();
  let done = 0;
  for (let w = 0; w < 2; w++) {
    new Worker(__filename, { workerData: { sab, slot: w * 8 } }).on('message', () => {
      if (++done === 2) console.log(`compute-ms: ${(performance.now() - t0).toFixed(1)}`);
    });
  }
} else {
  const l = new Int32Array(workerData.sab);
  let x = 0;
  for (let r = 0; r < ROUNDS; r++) {
    lock(l, workerData.slot);
    x += work(500);
    unlock(l, workerData.slot);
  }
  parentPort.postMessage(x);
}
