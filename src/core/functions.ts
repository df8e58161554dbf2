/**
 * cProfile-style function rows: exact ncalls/primitive calls from the agent's counters,
 * tottime (self) and cumtime (inclusive, a recursive function counted once per sample) from
 * the CPU samples, per thread and merged over threads (threadId -1).
 */
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STRING_CODE_NAME } from '../protocol/events';
import type { FunctionRow } from '../protocol/report';
import { FunctionMapper } from './load';
import { NodeKind, type ParsedProfile } from './profile';
import type { LoadedThread } from './runData';
import { packageRoot } from './packageInfo';

/** Name of the one frame that stands for all of the profiler's own code in a stack. */
export const PROFILER_FRAME = '(profiler)';

let agentDir: string | null = null;
/** The agent bundle's files: out/agent*.js / .mjs of this package (preload, main part, ESM hooks, TS loader). */
export function isAgentFile(file: string): boolean {
  agentDir ??= join(packageRoot(), 'out') + sep;
  if (!file.startsWith(agentDir)) return false;
  const name = file.slice(agentDir.length);
  return /^agent[\w-]*\.m?js$/.test(name);
}

/** Interned function identities (name, file, line, column); index = frame index in the report's stack table. */
export class FunctionIdentities {
  readonly name: string[] = [];
  readonly file: string[] = [];
  readonly line: number[] = [];
  readonly column: number[] = [];
  private readonly keys = new Map<string, number>();

  /** Index of a function identity, added when new. */
  intern(name: string, file: string, line: number, column: number): number {
    const key = `${name}\0${file}\0${line}\0${column}`;
    let i = this.keys.get(key);
    if (i === undefined) {
      i = this.name.length;
      this.keys.set(key, i);
      this.name.push(name);
      this.file.push(file);
      this.line.push(line);
      this.column.push(column);
    }
    return i;
  }

  get size(): number {
    return this.name.length;
  }
}

export function urlToFile(url: string): string {
  if (url.startsWith('file:')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

/** Names of the agent's frames that stand in for the user's Atomics.wait (see agent/shared/atomics.ts). */
const WAIT_STAND_INS = new Set(['wait']);

/** The function the transform appends to a script to build its tables (see agent/transform). */
const MODULE_HEAD_FN = '__ppH';

/** Natives the agent's message wrappers call on the user's behalf (structured clone of the payload). */
const USER_COST_NATIVES = new Set(['postMessage', 'structuredClone']);

/**
 * The function identity of every node of a profile chunk (-1 for root and idle): transformed
 * functions map to their original position, everything else keeps V8's (made 1-based).
 */
export function identifyNodes(p: ParsedProfile, mapper: FunctionMapper, ids: FunctionIdentities, transformed?: Set<number>): Int32Array {
  const out = new Int32Array(p.parent.length);
  const profilerIds = new Set<number>();
  // Nodes of the agent's stand-in for Atomics.wait under user code, and everything under them.
  const waiting = new Uint8Array(p.parent.length);
  const ourDeps = join(packageRoot(), 'node_modules') + sep;
  for (let i = 0; i < out.length; i++) {
    const k = p.kind[i]!;
    const par = p.parent[i]!;
    const url = p.url[i]!;
    if (k === NodeKind.Root || k === NodeKind.Idle) {
      out[i] = -1;
      continue;
    }
    const file = urlToFile(url);
    // Node internals and natives the profiler calls are the profiler's cost: fold them into its frame.
    // Except the message natives its wrappers forward to: cloning a message is the user's cost.
    const runtime =
      k === NodeKind.Js && (url === '' || url.startsWith('node:') || file.startsWith(ourDeps)) && !(url === '' && USER_COST_NATIVES.has(p.name[i]!));
    if (par >= 0 && waiting[par] && (runtime || isAgentFile(file))) {
      out[i] = out[par]!;
      waiting[i] = 1;
    } else if (par >= 0 && profilerIds.has(out[par]!) && runtime) {
      out[i] = out[par]!;
    } else if (k === NodeKind.Js && par >= 0 && out[par]! >= 0 && !profilerIds.has(out[par]!) && WAIT_STAND_INS.has(p.name[i]!) && isAgentFile(file)) {
      // Blocked in Atomics.wait through the agent's stand-in: the caller's time, as it is under
      // plain node (the timeline shows it blocked), not the profiler's cost.
      out[i] = out[par]!;
      waiting[i] = 1;
    } else if (k !== NodeKind.Js) {
      out[i] = ids.intern(p.name[i]!, '', 0, 0);
    } else if (isAgentFile(file)) {
      // The profiler's own code is one frame, so its internals do not crowd the user's table.
      out[i] = ids.intern(PROFILER_FRAME, file, 0, 0);
      profilerIds.add(out[i]!);
    } else {
      const m = mapper.map(url, p.line0[i]!, p.col0[i]!);
      const wrapperTop = !m && p.name[i] === '' && p.line0[i] === 0 && p.col0[i] === 0 && STRING_CODE_NAME.test(file);
      if (!m && (p.name[i] === MODULE_HEAD_FN || wrapperTop)) {
        // The transform's module-table builder after a script's last line, or the top level of
        // code compiled from a string (the agent's wrapper around it): the profiler's cost.
        out[i] = ids.intern(PROFILER_FRAME, file, 0, 0);
        profilerIds.add(out[i]!);
      } else if (m) {
        out[i] = ids.intern(m.name || '(anonymous)', m.file, m.line, m.column);
        transformed?.add(out[i]!);
      } else {
        const line = p.line0[i]! + 1;
        out[i] = ids.intern(p.name[i] || '(anonymous)', file, line, line > 0 ? p.col0[i]! + 1 : 0);
      }
    }
  }
  return out;
}

/** Multiplier packing a (caller, callee) identity pair into one number key. */
export const EDGE_SCALE = 1 << 24;

/** Per-thread accumulator of self and inclusive time (µs) by function identity. */
export class ThreadFunctionTimes {
  readonly selfUs = new Map<number, number>();
  readonly cumUs = new Map<number, number>();
  /** Inclusive time along caller → callee edges, keyed caller * EDGE_SCALE + callee. */
  readonly edgeUs = new Map<number, number>();

  /** Adds one profile chunk, given each node's function identity. */
  addProfile(p: ParsedProfile, nodeFn: Int32Array): void {
    const n = p.parent.length;
    const nodeSelf = new Float64Array(n);
    for (let s = 0; s < p.sampleNode.length; s++) {
      const node = p.sampleNode[s]!;
      if (node >= 0) nodeSelf[node]! += p.weightUs[s]!;
    }
    const total = Float64Array.from(nodeSelf);
    for (let i = n - 1; i >= 0; i--) {
      const par = p.parent[i]!;
      if (par >= 0) total[par]! += total[i]!;
    }
    // Children lists (CSR) for an iterative depth-first walk tracking functions on the path.
    const childCount = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) if (p.parent[i]! >= 0) childCount[p.parent[i]! + 1]!++;
    for (let i = 0; i < n; i++) childCount[i + 1]! += childCount[i]!;
    const fill = childCount.slice(0, n);
    const children = new Int32Array(Math.max(0, childCount[n]!));
    for (let i = 0; i < n; i++) {
      const par = p.parent[i]!;
      if (par >= 0) children[fill[par]!++] = i;
    }
    // Nearest ancestor function of each node (its caller), parents come before children.
    const callerFn = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const par = p.parent[i]!;
      if (par >= 0) callerFn[i] = nodeFn[par]! >= 0 ? nodeFn[par]! : callerFn[par]!;
    }
    const onPath = new Map<number, number>();
    const stack: number[] = [];
    for (let i = 0; i < n; i++) if (p.parent[i]! < 0) stack.push(i);
    // Entries >= 0 enter a node; ~i leaves node i.
    while (stack.length) {
      const e = stack.pop()!;
      if (e < 0) {
        const f = nodeFn[~e]!;
        if (f >= 0) onPath.set(f, onPath.get(f)! - 1);
        continue;
      }
      if (total[e] === 0) continue;
      const f = nodeFn[e]!;
      if (f >= 0) {
        const depth = onPath.get(f) ?? 0;
        if (depth === 0) {
          this.cumUs.set(f, (this.cumUs.get(f) ?? 0) + total[e]!);
          const caller = callerFn[e]!;
          if (caller >= 0 && caller !== f) {
            const key = caller * EDGE_SCALE + f;
            this.edgeUs.set(key, (this.edgeUs.get(key) ?? 0) + total[e]!);
          }
        }
        if (nodeSelf[e]! > 0) this.selfUs.set(f, (this.selfUs.get(f) ?? 0) + nodeSelf[e]!);
        onPath.set(f, depth + 1);
      }
      stack.push(~e);
      for (let c = childCount[e]!; c < childCount[e + 1]!; c++) stack.push(children[c]!);
    }
  }
}

/** Exact call counts of a thread by function identity (functions the transform saw and that ran). */
export function threadCallCounts(thread: LoadedThread, ids: FunctionIdentities): Map<number, { ncalls: number; prim: number }> {
  const out = new Map<number, { ncalls: number; prim: number }>();
  for (const [fid, rec] of thread.counts) {
    const mod = thread.modules.get(fid);
    if (!mod) continue;
    for (let i = 0; i < rec.ncalls.length; i++) {
      const nc = rec.ncalls[i] ?? 0;
      if (nc <= 0 || 4 * i + 1 >= mod.funcs.length) continue;
      const id = ids.intern(mod.names[i] || '(anonymous)', mod.file, mod.funcs[4 * i]!, mod.funcs[4 * i + 1]!);
      const prev = out.get(id);
      const prim = rec.prim[i] ?? nc;
      out.set(id, prev ? { ncalls: prev.ncalls + nc, prim: prev.prim + prim } : { ncalls: nc, prim });
    }
  }
  return out;
}

/** Whether call counting was active in this thread (some transformed module reported counts). */
export function threadCountsOn(thread: LoadedThread): boolean {
  return thread.counts.size > 0;
}

/** The rows of one thread (every function with samples or calls, times in ms, by cumtime) and their identities. */
export function threadFunctionRows(
  threadId: number,
  times: ThreadFunctionTimes,
  counts: Map<number, { ncalls: number; prim: number }>,
  countsOn: boolean,
  transformed: Set<number>,
  ids: FunctionIdentities,
): { rows: FunctionRow[]; ids: number[] } {
  const seen = new Set<number>([...times.cumUs.keys(), ...times.selfUs.keys(), ...counts.keys()]);
  const rows: FunctionRow[] = [];
  const order = [...seen].sort((a, b) => a - b);
  for (const f of order) {
    const c = counts.get(f);
    // A transformed function that was sampled but never counted ran 0 times only if counting was on.
    const known = c !== undefined || (countsOn && transformed.has(f));
    rows.push({
      threadId,
      name: ids.name[f]!,
      file: ids.file[f]!,
      line: ids.line[f]!,
      column: ids.column[f]!,
      ncalls: known ? (c?.ncalls ?? 0) : null,
      primitiveCalls: known ? (c?.prim ?? 0) : null,
      tottimeMs: (times.selfUs.get(f) ?? 0) / 1000,
      cumtimeMs: (times.cumUs.get(f) ?? 0) / 1000,
    });
  }
  // Most expensive first; ids stay aligned with rows.
  const idx = rows.map((_, k) => k).sort((a, b) => rows[b]!.cumtimeMs - rows[a]!.cumtimeMs || rows[b]!.tottimeMs - rows[a]!.tottimeMs);
  return { rows: idx.map((k) => rows[k]!), ids: idx.map((k) => order[k]!) };
}

/** Merged rows (threadId -1): per function identity, counts and times summed over threads. */
export function mergeFunctionRows(rows: FunctionRow[]): FunctionRow[] {
  const byKey = new Map<string, FunctionRow>();
  for (const r of rows) {
    if (r.threadId === -1) continue;
    const key = `${r.name}\0${r.file}\0${r.line}\0${r.column}`;
    const m = byKey.get(key);
    if (!m) {
      byKey.set(key, { ...r, threadId: -1, callers: undefined, callees: undefined });
      continue;
    }
    m.ncalls = m.ncalls === null && r.ncalls === null ? null : (m.ncalls ?? 0) + (r.ncalls ?? 0);
    m.primitiveCalls = m.primitiveCalls === null && r.primitiveCalls === null ? null : (m.primitiveCalls ?? 0) + (r.primitiveCalls ?? 0);
    m.tottimeMs += r.tottimeMs;
    m.cumtimeMs += r.cumtimeMs;
  }
  const out = [...byKey.values()];
  for (const r of out) {
    delete r.callers;
    delete r.callees;
  }
  return out;
}

/**
 * Fills callers/callees of one thread's rows, whose identities are `rowIds` and which sit at
 * `functions[offset + k]`; edge times in ms.
 */
export function attachCallEdges(rows: FunctionRow[], rowIds: number[], offset: number, times: ThreadFunctionTimes): void {
  const at = new Map<number, number>();
  rowIds.forEach((id, k) => at.set(id, k));
  for (const [key, us] of times.edgeUs) {
    const caller = Math.floor(key / EDGE_SCALE);
    const callee = key % EDGE_SCALE;
    const a = at.get(caller);
    const b = at.get(callee);
    if (a === undefined || b === undefined) continue;
    (rows[a]!.callees ??= []).push({ fn: offset + b, timeMs: us / 1000 });
    (rows[b]!.callers ??= []).push({ fn: offset + a, timeMs: us / 1000 });
  }
  for (const r of rows) {
    r.callees?.sort((x, y) => y.timeMs - x.timeMs);
    r.callers?.sort((x, y) => y.timeMs - x.timeMs);
  }
}
