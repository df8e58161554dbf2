// Recursive call-heavy kernel: two workers each run recursive fib (millions of tiny calls of a
// directly recursive function): the worst case for exact call counters, whose recursion
// tracking (primitive calls) wraps such functions in try/finally.
'use strict';
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const N = Number(process.env.FIB || 30);

function add(a, b) {
  return a + b;
}
function fib(n) {
  return n < 2 ? n : add(fib(n - 1), fib(n - 2));
}

if (isMainThread) {
  const t0 = performance.now();
  let done = 0;
  for (let w = 0; w < 2; w++) {
    new Worker(__filename, { workerData: N }).on('message', () => {
      if (++done === 2) console.log(`compute-ms: ${(performance.now() - t0).toFixed(1)}`);
    });
  }
} else {
  parentPort.postMessage(fib(workerData));
}
