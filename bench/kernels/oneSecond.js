// A one-second program (main thread and two workers busy for about a second) for timing the
// step from program exit to report written.
'use strict';
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const MS = Number(process.env.MS || 1000);

function busyUntil(t) {
  let x = 0;
  while (performance.now() < t) x += Math.sqrt(x + 1);
  return x;
}

// performance.now() has a different origin in each thread: pass the duration, not a deadline.
if (isMainThread) {
  for (let w = 0; w < 2; w++) new Worker(__filename, { workerData: MS });
  busyUntil(performance.now() + MS);
} else {
  parentPort.postMessage(busyUntil(performance.now() + require('node:worker_threads').workerData));
}
