/**
 * The real Atomics functions, captured when the agent loads (before the global wait/notify/
 * waitAsync are patched), so the agent's own waits never record or slice themselves.
 */
export const nativeAtomics = {
  load: Atomics.load,
  store: Atomics.store,
  add: Atomics.add,
  sub: Atomics.sub,
  and: Atomics.and,
  or: Atomics.or,
  xor: Atomics.xor,
  exchange: Atomics.exchange,
  compareExchange: Atomics.compareExchange,
  wait: Atomics.wait,
  notify: Atomics.notify,
  waitAsync: (Atomics as any).waitAsync as ((ta: any, i: number, v: any, t?: number) => { async: boolean; value: any }) | undefined,
  isLockFree: Atomics.isLockFree,
};

/** SharedArrayBuffers the agent itself uses: the global wait/notify patches pass them straight through. */
export const internalBuffers = new WeakSet<SharedArrayBuffer>();

/**
 * Takes one of the agent's short internal lock words (0 free, 1 held, 2 held with sleepers):
 * a brief spin, then a futex sleep. With more busy threads than cores a holder is often
 * descheduled for a whole time slice, and pure spinning burnt the other threads' slices
 * (a contended program under race detection ran 45× slower, mostly spinning here).
 */
export function lockWord(i: Int32Array, at: number): void {
  const N = nativeAtomics;
  if (N.compareExchange(i, at, 0, 1) === 0) return;
  for (let k = 0; k < 64; k++) if (N.load(i, at) === 0 && N.compareExchange(i, at, 0, 1) === 0) return;
  while (N.exchange(i, at, 2) !== 0) N.wait(i, at, 2);
}

/** Gives back a word taken by lockWord, waking one sleeper if any. */
export function unlockWord(i: Int32Array, at: number): void {
  if (nativeAtomics.exchange(i, at, 0) === 2) nativeAtomics.notify(i, at, 1);
}
