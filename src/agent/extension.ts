/**
 * The seam between the agent's base runtime (lifecycle, sampling, counters, messages) and its
 * shared-memory part (src/agent/shared/: races, Atomics, locks, watchdog). The base calls these
 * hooks; the shared part never patches postMessage or Worker itself.
 */
import type { AgentOptions, AgentRecord } from '../protocol/events';

/** What the base runtime offers every part of the agent in a thread. */
export interface AgentContext {
  options: AgentOptions;
  pid: number;
  tid: number;
  isMain: boolean;
  /** µs on the monotonic clock shared by all threads. */
  now(): number;
  /** Buffered append of one record to this thread's event file. */
  write(record: AgentRecord): void;
  /** Synchronously write everything buffered (used before blocking and at exit). */
  flush(): void;
  /**
   * Called from agent code that runs long without returning to the event loop (between the
   * slices of a blocked Atomics.wait, while a spin is watched): lets the base answer requests
   * its event loop cannot see now (flush before terminate, profile before a kill). Cheap when
   * nothing is pending. Optional: contexts without requests omit it.
   */
  poll?(): void;
  /** Site id from (module fid, local site index). */
  siteId(fid: number, local: number): number;
  /** Current stack, innermost first, frames "name (file:line:col)", agent frames removed. */
  captureStack(skip?: number): string[];
}

/** Hooks the shared-memory part implements; the base calls them at the right moments. */
export interface AgentExtension {
  /** Before a message is posted: returns JSON/structured-cloneable metadata to carry in the tag. */
  beforeSend(value: unknown): unknown;
  /** A tagged message arrived (before user handlers run): meta is what beforeSend returned. */
  afterReceive(meta: unknown, value: unknown): void;
  /** In the parent, right before `new Worker(...)`: data to hand to the child (structured-cloneable, may hold SharedArrayBuffers). */
  beforeSpawn(workerData: unknown): unknown;
  /** In the parent, right after the Worker object exists. */
  afterSpawn(childTid: number): void;
  /** In a new thread, before user code: what the parent's beforeSpawn returned (undefined in a main thread) and the thread's workerData. */
  threadStart(spawnData: unknown, workerData: unknown): void;
  /** In the parent, when a worker has exited; `observed`: the program heard of it (a join edge). */
  onJoin(childTid: number, observed: boolean): void;
  /**
   * Optional: in the parent, before the program's 'error' listeners of a worker run. The error
   * of an uncaught exception is posted by the child after its last access (its agent has
   * finished recording), so it orders the child's accesses like a message.
   */
  onChildError?(childTid: number): void;
  /** Write buffered records via ctx.write (final = last flush of this thread). */
  flush(final: boolean): void;
  /**
   * Optional: the prototype of every module runtime object (`__ppM`, see ModuleRuntime). The
   * methods the shared-access transform emits (e.g. `__ppM.r(a, i, 7)`) live here; they read
   * `this.fid` to turn a local site index into a site id (fid * SITE_FID_SCALE + j).
   */
  moduleProto?: object;
  /**
   * Optional: the fields those methods keep on a module runtime object, with their first values.
   * Set when the object is made, so its shape never changes later: a field added on first use
   * (say, in the first sampled race segment) changed the map of `__ppM` under optimised code
   * and deoptimised every instrumented function that had run before.
   */
  moduleFields?: () => Record<string, unknown>;
}

/** What `globalThis.__pp.m(url, funcs, names, sites)` returns: one per transformed module. */
export interface ModuleRuntime {
  /** ncalls per function index, then one counter per call site of functions counted at their call sites. */
  c: Uint32Array;
  /** Primitive calls per function index (only maintained for directly recursive ones). */
  p: Uint32Array;
  /** Current recursion depth per function index. */
  d: Uint32Array;
  /** Calls made from a function's own self-call sites (prim = ncalls - s for those functions). */
  s: Uint32Array;
  /** Module id in this thread (ModuleRecord.fid). */
  fid: number;
}
