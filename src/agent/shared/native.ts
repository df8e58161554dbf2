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
