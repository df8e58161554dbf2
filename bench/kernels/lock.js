// Uncontended lock kernel: two workers each take and release their own futex-style Atomics
// lock around a little work, a million times: the lock instrumentation's cost without waiting.
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const ROUNDS = Number(process.env.ROUNDS || 1e6);
const WORK = Number(process.env.WORK ?? 500);

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
  runWorkers(__filename, 2, (w) => ({ sab, slot: w * 8 }));
} else {
  whenStarted(({ sab, slot }) => {
    const l = new Int32Array(sab);
    let x = 0;
    for (let r = 0; r < ROUNDS; r++) {
      lock(l, slot);
      x += work(WORK);
      unlock(l, slot);
    }
    return x;
  });
}
