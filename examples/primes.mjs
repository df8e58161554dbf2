// Segmented prime sieve with worker_threads (ES modules): the main thread sieves the small
// primes up to sqrt(limit), each worker sieves one segment and posts back its count.
// Usage: WORKERS=4 node examples/primes.mjs [limit]
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';

/** Primes up to n by the simple sieve of Eratosthenes. */
export function smallPrimes(n) {
  const composite = new Uint8Array(n + 1);
  const out = [];
  for (let i = 2; i <= n; i++) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j <= n; j += i) composite[j] = 1;
  }
  return out;
}

/** Counts primes in [lo, hi) using the base primes. */
export function sieveSegment(lo, hi, base) {
  const composite = new Uint8Array(hi - lo);
  for (const p of base) {
    let start = Math.max(p * p, Math.ceil(lo / p) * p);
    for (let j = start; j < hi; j += p) composite[j - lo] = 1;
  }
  let count = 0;
  for (let i = Math.max(lo, 2); i < hi; i++) if (!composite[i - lo]) count++;
  return count;
}

if (isMainThread) {
  const limit = Number(process.argv[2] ?? 20_000_000);
  const workers = Math.max(1, Number(process.env.WORKERS ?? 4));
  const base = smallPrimes(Math.ceil(Math.sqrt(limit)));
  const size = Math.ceil(limit / workers);
  const counts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const lo = w * size;
      const hi = Math.min(limit, lo + size);
      return new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { lo, hi, base }, name: `sieve-${w}` });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  console.log(`primes below ${limit}: ${counts.reduce((a, b) => a + b, 0)} (${workers} workers)`);
} else {
  const { lo, hi, base } = workerData;
  parentPort.postMessage(sieveSegment(lo, hi, base));
}
