/**
 * `globalThis.__pp`: the object transformed modules call into. `m()` registers a module
 * (writes its `module` record) and returns its counters; `counts` records are written,
 * cumulative, at every flush.
 */
import { fileURLToPath } from 'node:url';
import type { AgentContext, AgentExtension, ModuleRuntime } from './extension';

interface RegisteredModule {
  rt: ModuleRuntime;
  /** Sum of ncalls at the last written counts record (skip unchanged modules). */
  lastTotal: number;
}

/** The per-thread module registry behind globalThis.__pp. */
export class ModuleRegistry {
  private readonly modules: RegisteredModule[] = [];

  constructor(
    private readonly ctx: AgentContext,
    private readonly ext: AgentExtension | null,
  ) {}

  /**
   * Install globalThis.__pp (non-enumerable, so user code that walks globals does not see it),
   * with `extra` entry points other threads call through the inspector (reach.ts).
   */
  install(extra: Record<string, unknown> = {}): void {
    const m = (url: string, funcs: number[], names: string[], sites: number[], file?: string): ModuleRuntime =>
      this.register(url, funcs, names, sites, file);
    Object.defineProperty(globalThis, '__pp', { value: { ...extra, m }, configurable: true, enumerable: false, writable: false });
  }

  register(url: string, funcs: number[], names: string[], sites: number[], file?: string): ModuleRuntime {
    const fid = this.modules.length + 1; // site id 0 means "not instrumented"
    const n = names.length;
    const rt = Object.create(this.ext?.moduleProto ?? Object.prototype) as ModuleRuntime;
    rt.c = new Uint32Array(n);
    rt.p = new Uint32Array(n);
    rt.d = new Uint32Array(n);
    rt.s = new Uint32Array(n);
    rt.fid = fid;
    if (this.ext?.moduleFields) Object.assign(rt, this.ext.moduleFields());
    this.modules.push({ rt, lastTotal: 0 });
    let path = file;
    if (path === undefined) {
      try {
        path = url.startsWith('file:') ? fileURLToPath(url) : url;
      } catch {
        path = url;
      }
    }
    this.ctx.write({ k: 'module', fid, file: path, url, funcs, names, sites });
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
      const ncalls = Array.from(c);
      // Depth-tracked functions keep p (> 0 once they ran); self-call-counted ones keep s; the rest are all primitive.
      const prim = ncalls.map((n, i) => (p[i]! > 0 ? p[i]! : Math.max(0, n - s[i]!)));
      this.ctx.write({ k: 'counts', fid: m.rt.fid, ncalls, prim });
    }
  }
}
