// Shared start line for the benchmark kernels: the main thread starts its workers, waits until
// every one is ready (Node and profiler start-up done), then starts them together and prints
// `compute-ms: N` from the start to the last result: the kernel's own time, without start-up.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

/** In the main thread: start n workers of `file` with workerData(i), time them from "go" to the last result. */
function runWorkers(file, n, dataOf) {
  const workers = [];
  let ready = 0;
  let done = 0;
  let t0 = 0;
  for (let i = 0; i < n; i++) {
    const w = new Worker(file, { workerData: dataOf(i) });
    workers.push(w);
    w.on('message', (m) => {
      if (m === 'ready') {
        if (++ready === n) {
          t0 = performance.now();
          for (const x of workers) x.postMessage('go');
        }
      } else if (++done === n) {
        console.log(`compute-ms: ${(performance.now() - t0).toFixed(1)}`);
      }
    });
  }
}

/** In a worker: say ready, run `work` on "go", post its result. */
function whenStarted(work) {
  parentPort.once('message', () => parentPort.postMessage(work(workerData)));
  parentPort.postMessage('ready');
}

module.exports = { isMainThread, runWorkers, whenStarted };
