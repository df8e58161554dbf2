/**
 * Shared-buffer identity. Each SharedArrayBuffer gets a run-wide id "pid.tid.n" where it is
 * first seen (allocated by instrumented code, or first sent/touched), and a short per-thread
 * index used in records. Messages and workerData carry the ids of the SABs they hold, in the
 * order of a bounded walk that both sides perform identically on the value and its clone.
 */
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

const MAX_DEPTH = 4;
const MAX_NODES = 1000;

/** Registry of the shared buffers one thread knows. */
export class BufferRegistry {
  private readonly known = new WeakMap<SharedArrayBuffer, BufferState>();
  /** Every clone of a buffer is a new object, even in the thread that sent it: ids join them. */
  private readonly byId = new Map<string, WeakRef<BufferState>>();
  private readonly byIndex: WeakRef<BufferState>[] = [];
  private next = 0;
  private localN = 0;

  constructor(private readonly ctx: AgentContext) {}

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

/** Visit every SharedArrayBuffer reachable from `value` (bounded, deterministic order). */
export function walkShared(value: unknown, visit: (sab: SharedArrayBuffer) => void): void {
  let nodes = 0;
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || nodes >= MAX_NODES) return;
    nodes++;
    if (v instanceof SharedArrayBuffer) {
      visit(v);
      return;
    }
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof SharedArrayBuffer) visit(v.buffer);
      return;
    }
    if (v instanceof ArrayBuffer || depth >= MAX_DEPTH || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      const n = Math.min(v.length, MAX_NODES);
      for (let i = 0; i < n && nodes < MAX_NODES; i++) walk(v[i], depth + 1);
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) {
        if (nodes >= MAX_NODES) break;
        walk(k, depth + 1);
        walk(x, depth + 1);
      }
      return;
    }
    if (v instanceof Set) {
      for (const x of v) {
        if (nodes >= MAX_NODES) break;
        walk(x, depth + 1);
      }
      return;
    }
    const proto = Object.getPrototypeOf(v);
    // Only plain-ish objects: structured clone copies their own enumerable properties in order.
    if (proto !== Object.prototype && proto !== null && !isCloneableClassInstance(v)) return;
    for (const k of Object.keys(v)) {
      if (nodes >= MAX_NODES) break;
      walk((v as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(value, 0);
}

/** Class instances clone as plain objects; built-ins with internal slots (Date, Error…) are not walked. */
function isCloneableClassInstance(v: object): boolean {
  return !(v instanceof Date || v instanceof RegExp || v instanceof Error || v instanceof Promise || typeof (v as any).then === 'function');
}
