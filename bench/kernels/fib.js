// Recursive call-heavy kernel: two workers each run recursive fib (millions of tiny calls of a
// directly recursive function): the worst case for exact call counters, which must also count
// primitive calls (cProfile's 43/3).
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const N = Number(process.env.FIB || 39);

function add(a, b) {
  return a + b;
}
function fib(n) {
  return n < 2 ? n : add(fib(n - 1), fib(n - 2));
}

if (isMainThread) runWorkers(__filename, 2, () => N);
else whenStarted(fib);
