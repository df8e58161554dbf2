/**
 * Shared-buffer identity. Each SharedArrayBuffer gets a run-wide id "pid.tid.n" where it is
 * first seen (allocated by instrumented code, or first sent/touched), and a short per-thread
 * index used in records. Messages, workerData and environment data carry the ids of the SABs
 * they hold (shared WebAssembly memories included), in the order of a bounded walk that both
 * sides perform identically on the value and its clone (cloneWalk.ts).
 */
import Module from 'node:module';
import wt from 'node:worker_threads';
import { walkCloneable } from '../cloneWalk';
import type { AgentContext } from '../extension';

/** This thread's knowledge of one shared buffer. */
export interface BufferState {
  idx: number;
  id: string;
  /** Numeric form of the id (pid is the process's): for the control-buffer tables. */
  idTid: number;
  idN: number;
  /** Hash of the id, mixed with byte offsets to pick sync-table rows. */
  hash: number;
  byteLength: number;
  /** Same-segment stamps per (kind, element size): index kind * 9 + bytesPerElement. */
  stamps: (Int32Array | null | undefined)[];
}

/** Registry of the shared buffers one thread knows. */
export class BufferRegistry {
  private readonly known = new WeakMap<SharedArrayBuffer, BufferState>();
  /** Every clone of a buffer is a new object, even in the thread that sent it: ids join them. */
  private readonly byId = new Map<string, WeakRef<BufferState>>();
  private readonly byIndex: WeakRef<BufferState>[] = [];
  private next = 0;
  private localN = 0;
  /** Stand-in buffers (see named) live as long as the thread. */
  private readonly pinned: BufferState[] = [];

  constructor(private readonly ctx: AgentContext) {
    trackEnvironmentData(this);
    trackStructuredClone(this);
  }

  /** State of a buffer, naming it here (origin) when it was never seen. */
  get(sab: SharedArrayBuffer, site: number | null = null): BufferState {
    return this.known.get(sab) ?? this.add(sab, null, site);
  }

  /** State of a buffer or undefined (no naming). */
  peek(sab: SharedArrayBuffer): BufferState | undefined {
    return this.known.get(sab);
  }

  /** Register a buffer under a given id (from a message), or a fresh local id when id is null. */
  add(sab: SharedArrayBuffer, id: string | null, site: number | null): BufferState {
    const have = this.known.get(sab);
    if (have) return have; // first name wins: a missed mapping may only hide races
    if (id !== null) {
      const same = this.byId.get(id)?.deref();
      if (same) {
        this.known.set(sab, same);
        return same;
      }
    }
    const origin = id === null;
    const name = id ?? `${this.ctx.pid}.${this.ctx.tid}.${this.localN++}`;
    const parts = name.split('.');
    const idTid = Number(parts[1]) | 0;
    const idN = Number(parts[2]) | 0;
    const st: BufferState = {
      idx: this.next++,
      id: name,
      idTid,
      idN,
      hash: Math.imul(idTid * 7919 + idN + 1, 0x9e3779b1) >>> 0,
      byteLength: sab.byteLength,
      stamps: [],
    };
    this.known.set(sab, st);
    this.byId.set(name, new WeakRef(st));
    this.byIndex[st.idx] = new WeakRef(st);
    this.ctx.write({ k: 'buf', idx: st.idx, id: name, byteLength: sab.byteLength, site: origin ? site : null, origin });
    return st;
  }

  /**
   * A stand-in buffer for something that is not memory but orders threads and can be a lock (a
   * Web Locks name): one per id in this thread, its hash from the id so every thread that uses
   * the name meets on the same sync-table row.
   */
  named(id: string): BufferState {
    const have = this.byId.get(id)?.deref();
    if (have) return have;
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
    const st: BufferState = { idx: this.next++, id, idTid: -1, idN: h | 0, hash: h >>> 0, byteLength: 0, stamps: [] };
    this.byId.set(id, new WeakRef(st));
    this.byIndex[st.idx] = new WeakRef(st);
    this.pinned.push(st);
    this.ctx.write({ k: 'buf', idx: st.idx, id, byteLength: 0, site: null, origin: false });
    return st;
  }

  /** State by this thread's buffer index, while the buffer lives. */
  byIdx(idx: number): BufferState | undefined {
    return this.byIndex[idx]?.deref();
  }

  /** Ids of the SABs in `value`, in walk order (naming unknown ones here). */
  idsOf(value: unknown): string[] {
    const out: string[] = [];
    walkShared(value, (sab) => out.push(this.get(sab).id));
    return out;
  }

  /** Map the SABs of a received value to the ids the sender gave, in the same walk order. */
  adopt(value: unknown, ids: unknown): void {
    const list = Array.isArray(ids) ? ids : [];
    let i = 0;
    walkShared(value, (sab) => {
      const id = list[i++];
      this.add(sab, typeof id === 'string' ? id : null, null);
    });
  }
}

/** Visit every SharedArrayBuffer reachable from `value` (bounded, the same order on a value and its clone). */
export function walkShared(value: unknown, visit: (sab: SharedArrayBuffer) => void): void {
  walkCloneable(value, (v) => {
    if (v instanceof SharedArrayBuffer) visit(v);
    else if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof SharedArrayBuffer) visit(v.buffer);
    } else if (MemoryCtor !== undefined && v instanceof MemoryCtor) {
      // A shared WebAssembly.Memory clones as the same memory: its buffer is the shared one.
      const buffer = (v as { buffer?: unknown }).buffer;
      if (buffer instanceof SharedArrayBuffer) visit(buffer);
    }
  });
}

const MemoryCtor: (abstract new (...a: never[]) => object) | undefined = (globalThis as any).WebAssembly?.Memory;

/** Environment-data entry (worker_threads.setEnvironmentData) with the buffer ids of the program's own entries. */
const ENV_IDS = '__parprof_env_ids';
let envRegistry: BufferRegistry | null = null;

/**
 * Buffers handed over with setEnvironmentData keep their identity: the setter's side records
 * their ids next to the value (environment data is copied to each new worker), the getter's side
 * adopts them on the first get. The registry of this thread is the one asked (the latest made).
 */
function trackEnvironmentData(registry: BufferRegistry): void {
  const first = envRegistry === null;
  envRegistry = registry;
  if (!first) return;
  const origSet = wt.setEnvironmentData;
  const origGet = wt.getEnvironmentData;
  const ids = new Map<unknown, string[]>();
  const adopted = new WeakSet<object>();
  const own = (key: unknown): boolean => typeof key === 'string' && key.startsWith('__parprof');
  (wt as any).setEnvironmentData = function setEnvironmentData(key: any, value: any): void {
    origSet(key, value);
    if (own(key) || !envRegistry) return;
    const list = value === undefined ? [] : envRegistry.idsOf(value);
    const had = ids.delete(key);
    if (list.length > 0) ids.set(key, list);
    if (list.length > 0 || had) origSet(ENV_IDS, [...ids] as any);
  };
  (wt as any).getEnvironmentData = function getEnvironmentData(key: any): any {
    const value = origGet(key);
    if (value !== null && typeof value === 'object' && !adopted.has(value) && !own(key) && envRegistry) {
      adopted.add(value);
      const pairs = origGet(ENV_IDS) as unknown;
      const entry = Array.isArray(pairs) ? pairs.find((p) => Array.isArray(p) && p[0] === key) : undefined;
      if (entry) envRegistry.adopt(value, entry[1]);
    }
    return value;
  };
  (Module as any).syncBuiltinESMExports();
}

let cloneRegistry: BufferRegistry | null = null;

/**
 * `structuredClone(value)` in one thread gives new SharedArrayBuffer objects over the same
 * memory: the clone's buffers take the ids of the originals (the same walk on both sides), so
 * accesses through either are accesses to one buffer.
 */
function trackStructuredClone(registry: BufferRegistry): void {
  const first = cloneRegistry === null;
  cloneRegistry = registry;
  const orig = (globalThis as any).structuredClone as ((value: unknown, options?: unknown) => unknown) | undefined;
  if (!first || typeof orig !== 'function') return;
  const structuredClone = function structuredClone(this: unknown, ...args: unknown[]): unknown {
    const out = orig.apply(this, args as [unknown, unknown?]);
    const value = args[0];
    if (cloneRegistry && value !== null && typeof value === 'object') {
      try {
        cloneRegistry.adopt(out, cloneRegistry.idsOf(value));
      } catch {
        /* never let naming break the clone */
      }
    }
    return out;
  };
  Object.defineProperty(globalThis, 'structuredClone', { value: structuredClone, writable: true, configurable: true, enumerable: false });
}
