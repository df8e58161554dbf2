/**
 * Lookups the shared-memory analyses (races, locks, deadlocks) share: source sites, stacks,
 * where a thread was created, what a buffer is. Everything is cached per run.
 */
import { readFileSync } from 'node:fs';
import type { LoadedRun, LoadedThread, ResolvedSite } from './runData';
import { resolveSite } from './load';

/** Parses a stack frame "name (file:line:col)" or "file:line:col" into a site. */
export function parseFrame(frame: string | undefined): ResolvedSite | null {
  if (!frame) return null;
  const m = /\(?([^()]*?):(\d+):(\d+)\)?\s*$/.exec(frame);
  if (!m) return null;
  let file = m[1]!.trim();
  if (file.startsWith('at ')) file = file.slice(3);
  if (file.startsWith('file://')) {
    try {
      file = decodeURIComponent(new URL(file).pathname);
    } catch {
      /* keep the URL as it is */
    }
  }
  return { file, line: Number(m[2]), column: Number(m[3]) };
}

/** "file:line:column" for keys and messages. */
export function siteKey(s: ResolvedSite): string {
  return `${s.file}:${s.line}:${s.column}`;
}

/** Typed-array constructor names we recognise on an allocation line. */
const ELEMENT_TYPE_RE =
  /\b(Int8Array|Uint8Array|Uint8ClampedArray|Int16Array|Uint16Array|Int32Array|Uint32Array|Float32Array|Float64Array|BigInt64Array|BigUint64Array|DataView)\b/;

/** Cached per-run lookups used by the shared-memory analyses. */
export class RunIndex {
  private readonly byKey = new Map<string, LoadedThread>();
  private readonly siteCache = new Map<LoadedThread, Map<number, ResolvedSite | null>>();
  private readonly lineCache = new Map<string, string[] | null>();
  private bufferOrigins: Map<string, { thread: LoadedThread; site: number | null; byteLength: number }> | null = null;

  constructor(readonly run: LoadedRun) {
    for (const t of run.threads) this.byKey.set(`${t.pid}:${t.tid}`, t);
  }

  /** The thread with this Node threadId in this process. */
  thread(pid: number, tid: number): LoadedThread | undefined {
    return this.byKey.get(`${pid}:${tid}`);
  }

  /** Source position of a site id recorded by `thread` (cached). */
  site(thread: LoadedThread, siteId: number | null | undefined): ResolvedSite | null {
    if (siteId === null || siteId === undefined) return null;
    let m = this.siteCache.get(thread);
    if (!m) this.siteCache.set(thread, (m = new Map()));
    let s = m.get(siteId);
    if (s === undefined) {
      s = resolveSite(thread, siteId) ?? parseFrame(thread.stacks.get(siteId)?.[0]);
      m.set(siteId, s);
    }
    return s;
  }

  /** Stack of a site's first access in `thread` (innermost first), or []. */
  stack(thread: LoadedThread, siteId: number): string[] {
    return thread.stacks.get(siteId) ?? [];
  }

  /** Where `thread` was created: the parent's `new Worker` site (null for a main thread). */
  createdAt(thread: LoadedThread): ResolvedSite | null {
    const parentTid = thread.info.parentTid;
    if (thread.info.kind === 'main' || parentTid === null) return null;
    const parent = this.thread(thread.pid, parentTid);
    const spawn = parent?.spawns.find((s) => s.childTid === thread.tid);
    if (!parent || !spawn) return null;
    return this.site(parent, spawn.site) ?? parseFrame(spawn.stack[0]);
  }

  /** Run-wide buffer id of a thread-local buffer index (a stable fallback when unnamed). */
  bufferId(thread: LoadedThread, idx: number): string {
    return thread.bufs.get(idx)?.id ?? `${thread.pid}.${thread.tid}.local${idx}`;
  }

  /** Allocation site, byte length and element type of a buffer, as far as the run tells. */
  bufferInfo(id: string): { allocatedAt: ResolvedSite | null; byteLength: number | null; elementType: string | null } {
    if (!this.bufferOrigins) {
      this.bufferOrigins = new Map();
      for (const t of this.run.threads) {
        for (const b of t.bufs.values()) {
          const prev = this.bufferOrigins.get(b.id);
          if (!prev || (b.origin && prev.site === null)) this.bufferOrigins.set(b.id, { thread: t, site: b.origin ? b.site : null, byteLength: b.byteLength });
        }
      }
    }
    const o = this.bufferOrigins.get(id);
    if (!o) return { allocatedAt: null, byteLength: null, elementType: null };
    const allocatedAt = this.site(o.thread, o.site);
    return { allocatedAt, byteLength: o.byteLength, elementType: allocatedAt ? this.elementTypeAt(allocatedAt) : null };
  }

  /** The typed-array type named on the allocation line, when the line names exactly one. */
  private elementTypeAt(site: ResolvedSite): string | null {
    const text = this.lines(site.file)?.[site.line - 1];
    if (!text) return null;
    const all = text.match(new RegExp(ELEMENT_TYPE_RE.source, 'g')) ?? [];
    return new Set(all).size === 1 ? all[0]! : null;
  }

  /**
   * The view type an access goes through, read from the source: the identifier before `[`
   * (or `.getX(`/`.setX(` of a DataView) at the access, and the `name = new Type(` that made it.
   */
  viewTypeAt(site: ResolvedSite): string | null {
    const lines = this.lines(site.file);
    const text = lines?.[site.line - 1];
    if (!lines || !text) return null;
    const m = /([A-Za-z_$][\w$]*)\s*(\[|\.(?:get|set)(?:Int|Uint|Float|BigInt|BigUint)\d+\s*\()/.exec(text.slice(Math.max(0, site.column - 1)));
    if (!m) return null;
    if (m[2] !== '[') return 'DataView';
    const decl = new RegExp(`\\b${m[1]!.replace(/\$/g, '\\$')}\\s*[=:]\\s*new\\s+${ELEMENT_TYPE_RE.source}`);
    for (const line of lines) {
      const d = decl.exec(line);
      if (d) return d[1]!;
    }
    return null;
  }

  private lines(file: string): string[] | null {
    let lines = this.lineCache.get(file);
    if (lines === undefined) {
      try {
        lines = readFileSync(file, 'utf8').split('\n');
      } catch {
        lines = null;
      }
      this.lineCache.set(file, lines);
    }
    return lines;
  }
}
