/**
 * From positions V8 and the agent report back to the user's source: V8 callFrames (url,
 * 0-based generated line/column) to the original function via the `module` records, and
 * site ids (fid * 2^20 + local index) to original positions.
 */
import { fileURLToPath } from 'node:url';
import { SITE_FID_SCALE, type ModuleRecord } from '../protocol/events';
import type { LoadedThread, ResolvedSite } from './runData';

/** A function of a transformed module, found from where V8 reports it. */
export interface MappedFunction {
  fid: number;
  index: number;
  name: string;
  file: string;
  line: number;
  column: number;
}

/** Per-thread index from V8 positions (url + generated 1-based line:col) to transformed functions. */
export class FunctionMapper {
  private readonly byUrl = new Map<string, { mod: ModuleRecord; pos: Map<number, number>; lines: Map<number, number[]> }>();
  private readonly cache = new Map<string, MappedFunction | null>();

  constructor(thread: LoadedThread) {
    for (const mod of thread.modules.values()) {
      const pos = new Map<number, number>();
      const lines = new Map<number, number[]>();
      const n = mod.funcs.length / 4;
      for (let i = 0; i < n; i++) {
        const gl = mod.funcs[4 * i + 2]!;
        const gc = mod.funcs[4 * i + 3]!;
        pos.set(gl * 100000 + gc, i);
        let l = lines.get(gl);
        if (!l) lines.set(gl, (l = []));
        l.push(i);
      }
      const entry = { mod, pos, lines };
      this.byUrl.set(mod.url, entry);
      if (!this.byUrl.has(mod.file)) this.byUrl.set(mod.file, entry);
    }
  }

  /** Maps a V8 callFrame (url, 0-based generated line/column) to the original function, or null. */
  map(url: string, line0: number, col0: number): MappedFunction | null {
    if (!url || line0 < 0) return null;
    const key = `${url}\n${line0}:${col0}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const found = this.lookup(url, line0 + 1, col0 + 1);
    this.cache.set(key, found);
    return found;
  }

  private lookup(url: string, line: number, col: number): MappedFunction | null {
    let e = this.byUrl.get(url);
    if (!e && url.startsWith('file:')) {
      try {
        e = this.byUrl.get(fileURLToPath(url));
      } catch {
        e = undefined;
      }
    }
    if (!e) return null;
    let i = e.pos.get(line * 100000 + col);
    if (i === undefined) {
      // V8 and the transform may disagree by a few columns (e.g. getters); take the nearest on the line.
      const cands = e.lines.get(line);
      if (!cands?.length) return null;
      let best = cands[0]!;
      for (const c of cands) if (Math.abs(e.mod.funcs[4 * c + 3]! - col) < Math.abs(e.mod.funcs[4 * best + 3]! - col)) best = c;
      if (Math.abs(e.mod.funcs[4 * best + 3]! - col) > 40) return null;
      i = best;
    }
    const f = e.mod.funcs;
    return {
      fid: e.mod.fid,
      index: i,
      name: e.mod.names[i] ?? '',
      file: e.mod.file,
      line: f[4 * i]!,
      column: f[4 * i + 1]!,
    };
  }
}

/** Resolves a site id (fid * 2^20 + local index) of a thread to its original source position. */
export function resolveSite(thread: LoadedThread, siteId: number): ResolvedSite | null {
  if (!Number.isFinite(siteId) || siteId <= 0) return null;
  const fid = Math.floor(siteId / SITE_FID_SCALE);
  const j = siteId % SITE_FID_SCALE;
  const mod = thread.modules.get(fid);
  if (!mod || 3 * j + 1 >= mod.sites.length) return null;
  return { file: mod.file, line: mod.sites[3 * j]!, column: mod.sites[3 * j + 1]! };
}

/** Maps a V8 callFrame of a thread to its original function (see FunctionMapper); builds a mapper per call. */
export function mapCallFrame(thread: LoadedThread, url: string, line0: number, col0: number): MappedFunction | null {
  return new FunctionMapper(thread).map(url, line0, col0);
}
