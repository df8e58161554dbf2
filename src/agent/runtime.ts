/**
 * `globalThis.__pp`: the object transformed modules call into. `m()` registers a module
 * (writes its `module` record) and returns its counters; `counts` records are written,
 * cumulative, at every flush.
 */
import { fileURLToPath } from 'node:url';
import { isStringCodeName } from './codeNames';
import type { AgentContext, AgentExtension, ModuleRuntime } from './extension';

interface RegisteredModule {
  rt: ModuleRuntime;
  /** Sum of ncalls at the last written counts record (skip unchanged modules). */
  lastTotal: number;
  /** Counter n + j is call site j of function slots[j] (`~i`: a self-call site of function i). */
  slots: number[];
}

/**
 * ncalls and primitive calls per function from a module's counters: `c` holds one counter per
 * function, then one per call site (`slots[j]` is the function counted at c[n + j], `~i` for a
 * self-call site of function i). Depth-tracked functions keep p (> 0 once they ran);
 * self-call-counted ones subtract their self-calls; the rest are all primitive.
 */
export function callCounts(c: ArrayLike<number>, p: ArrayLike<number>, s: ArrayLike<number>, slots: readonly number[]): { ncalls: number[]; prim: number[] } {
  const n = s.length;
  const ncalls = Array.from({ length: n }, (_, i) => c[i]!);
  const self = Array.from(s);
  slots.forEach((f, j) => {
    const calls = c[n + j]!;
    if (f >= 0) ncalls[f]! += calls;
    else {
      ncalls[~f]! += calls;
      self[~f]! += calls;
    }
  });
  const prim = ncalls.map((k, i) => (p[i]! > 0 ? p[i]! : Math.max(0, k - self[i]!)));
  return { ncalls, prim };
}

/**
 * Counters over an ArrayBuffer of their own: V8 keeps a typed array of at most 64 bytes made
 * from a length inside the object (on the JS heap), and a counter there cost about three times
 * as much in optimised loops (calls.js single-threaded: 700 against 560 ms, 490 without
 * counters). One made over an ArrayBuffer is always outside.
 */
function counters(n: number): Uint32Array {
  return new Uint32Array(new ArrayBuffer(4 * n));
}

/** The per-thread module registry behind globalThis.__pp. */
export class ModuleRegistry {
  private readonly modules: RegisteredModule[] = [];
  /** Runtimes of code without a file (vm, Function), by url and tables: see register. */
  private readonly byCode = new Map<string, ModuleRuntime>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly ext: AgentExtension | null,
  ) {}

  /**
   * Install globalThis.__pp (non-enumerable, so user code that walks globals does not see it),
   * with `extra` entry points other threads call through the inspector (reach.ts).
   */
  install(extra: Record<string, unknown> = {}): void {
    const m = (url: string, funcs: number[], names: string[], sites: number[], file?: string, slots?: number[]): ModuleRuntime =>
      this.register(url, funcs, names, sites, file, slots);
    Object.defineProperty(globalThis, '__pp', { value: { ...extra, m }, configurable: true, enumerable: false, writable: false });
  }

  /**
   * `slots`: the call-site counters after the n function counters (transform/functions.ts),
   * each the index of the function it counts, or `~i` for a self-call site of function i.
   */
  register(url: string, funcs: number[], names: string[], sites: number[], file?: string, slots: number[] = []): ModuleRuntime {
    // Code compiled from a string registers each time it is compiled (a pool that rebuilds a
    // task with `new Function` or vm for every call): the same code is one module, one row.
    let key: string | undefined;
    if (file !== undefined && isStringCodeName(file)) {
      key = JSON.stringify([url, file, funcs, names, sites, slots]);
      const known = this.byCode.get(key);
      if (known) return known;
    }
    const fid = this.modules.length + 1; // site id 0 means "not instrumented"
    const n = names.length;
    const rt = Object.create(this.ext?.moduleProto ?? Object.prototype) as ModuleRuntime;
    rt.c = counters(n + slots.length);
    rt.p = counters(n);
    rt.d = counters(n);
    rt.s = counters(n);
    rt.fid = fid;
    if (this.ext?.moduleFields) Object.assign(rt, this.ext.moduleFields());
    this.modules.push({ rt, lastTotal: 0, slots });
    let path = file;
    if (path === undefined) {
      try {
        path = url.startsWith('file:') ? fileURLToPath(url) : url;
      } catch {
        path = url;
      }
    }
    this.ctx.write({ k: 'module', fid, file: path, url, funcs, names, sites });
    if (key !== undefined) this.byCode.set(key, rt);
    return rt;
  }

  /** Write a counts record for every module whose counters moved since the last flush. */
  writeCounts(): void {
    for (const m of this.modules) {
      const { c, p, s } = m.rt;
      let total = 0;
      for (let i = 0; i < c.length; i++) total += c[i]!;
      if (total === m.lastTotal) continue;
      m.lastTotal = total;
      const { ncalls, prim } = callCounts(c, p, s, m.slots);
      this.ctx.write({ k: 'counts', fid: m.rt.fid, ncalls, prim });
    }
  }
}
