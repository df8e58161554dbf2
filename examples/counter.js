// A shared counter protected by a futex-style mutex built on Atomics (0 = free, 1 = locked,
// 2 = locked with waiters), incremented by several workers. Prints the final count, which
// must equal WORKERS × ITERS.
// Usage: WORKERS=4 node examples/counter.js [iterations]
'use strict';
const { Worker, isMainThread, workerData } = require('node:worker_threads');

const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;

/** Acquires the mutex at index 0 of `lock` (Ulrich Drepper's "futexes are tricky" mutex 3). */
function lock(l) {
  let c = Atomics.compareExchange(l, 0, UNLOCKED, LOCKED);
  if (c === UNLOCKED) return;
  if (c !== CONTENDED) c = Atomics.exchange(l, 0, CONTENDED);
  while (c !== UNLOCKED) {
    Atomics.wait(l, 0, CONTENDED);
    c = Atomics.exchange(l, 0, CONTENDED);
  }
}

/** Releases the mutex, waking one waiter when there may be any. */
function unlock(l) {
  if (Atomics.sub(l, 0, 1) !== LOCKED) {
    Atomics.store(l, 0, UNLOCKED);
    Atomics.notify(l, 0, 1);
  }
}

/** Some work done while holding the lock, so the lock is actually contended. */
function criticalSection(counter) {
  let x = counter[0];
  for (let i = 0; i < 200; i++) x = (x * 33 + i) % 1000003;
  counter[1] = x;
  counter[0] = counter[0] + 1;
}

function work(l, counter, iters) {
  for (let i = 0; i < iters; i++) {
    lock(l);
    criticalSection(counter);
    unlock(l);
  }
}

if (isMainThread) {
  const iters = Number(process.argv[2] ?? 20000);
  const workers = Math.max(1, Number(process.env.WORKERS ?? 4));
  const lockBuf = new SharedArrayBuffer(4);
  const counterBuf = new SharedArrayBuffer(8);
  let exited = 0;
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(__filename, { workerData: { lockBuf, counterBuf, iters }, name: `counter-${w}` });
    worker.on('exit', () => {
      if (++exited === workers) {
        const count = new Int32Array(counterBuf)[0];
        console.log(`count = ${count} (expected ${workers * iters})`);
        if (count !== workers * iters) process.exitCode = 1;
      }
    });
  }
} else {
  const { lockBuf, counterBuf, iters } = workerData;
  work(new Int32Array(lockBuf), new Int32Array(counterBuf), iters);
}
