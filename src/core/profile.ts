/**
 * V8 `.cpuprofile` chunks parsed into flat typed arrays (node parents, sample nodes, sample
 * times and weights), so analyses walk samples without one object per sample. A sample's
 * weight is real time: half-way to its neighbours (the last one: to the profile's end).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { ProfileRecord } from '../protocol/events';

/** The V8 cpuprofile JSON shape. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A node of a V8 cpuprofile. */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string | number; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
  parent?: number;
}

/** Special V8 frames that are not JavaScript functions. */
export const enum NodeKind {
  Js = 0,
  Root = 1,
  Idle = 2,
  Program = 3,
  GC = 4,
}

/**
 * A parsed profile chunk: node i has parent[i] (-1 = none), kind[i], and its callFrame fields.
 * Nodes past the chunk's own are synthetic GC nodes under the JS stack that triggered them.
 */
export interface ParsedProfile {
  startUs: number;
  endUs: number;
  /** Nodes in parent-before-child order. */
  parent: Int32Array;
  kind: Uint8Array;
  name: string[];
  url: string[];
  line0: Int32Array;
  col0: Int32Array;
  /** Per sample: node index, absolute time (µs), start of the time it stands for and its length (µs). */
  sampleNode: Int32Array;
  sampleUs: Float64Array;
  fromUs: Float64Array;
  weightUs: Float64Array;
}

function kindOf(name: string, url: string): NodeKind {
  if (url !== '') return NodeKind.Js;
  switch (name) {
    case '(root)':
      return NodeKind.Root;
    case '(idle)':
      return NodeKind.Idle;
    case '(program)':
      return NodeKind.Program;
    case '(garbage collector)':
      return NodeKind.GC;
    default:
      return NodeKind.Js;
  }
}

/** Parses a V8 cpuprofile object into flat arrays. */
export function parseProfile(p: CpuProfile): ParsedProfile {
  const byId = new Map<number, CpuProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const parentId = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parentId.set(c, n.id);
  for (const n of p.nodes) if (n.parent !== undefined && !parentId.has(n.id)) parentId.set(n.id, n.parent);
  // Parent-before-child order: breadth-first from the roots.
  const order: CpuProfileNode[] = [];
  const index = new Map<number, number>();
  for (const n of p.nodes) if (!parentId.has(n.id)) order.push(n);
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    index.set(n.id, i);
    for (const c of n.children ?? []) {
      const cn = byId.get(c);
      if (cn && !index.has(c)) order.push(cn);
    }
  }
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const ns = samples.length;
  const sampleNode = new Int32Array(ns);
  for (let i = 0; i < ns; i++) sampleNode[i] = index.get(samples[i]!) ?? -1;
  // V8 hangs GC samples off the root; put each under the JS stack that was running just
  // before, so a function's cumtime includes the collections it caused (as wall-clock cProfile would).
  const gcUnder = new Map<number, number>();
  const extraParent: number[] = [];
  const isGc = (n: number) => n >= 0 && n < order.length && order[n]!.callFrame.url === '' && order[n]!.callFrame.functionName === '(garbage collector)';
  const isJs = (n: number) => n >= 0 && n < order.length && kindOf(order[n]!.callFrame.functionName, order[n]!.callFrame.url ?? '') === NodeKind.Js;
  for (let i = 1; i < ns; i++) {
    const prev = sampleNode[i - 1]!;
    if (!isGc(sampleNode[i]!)) continue;
    const host = isJs(prev) ? prev : prev >= order.length ? extraParent[prev - order.length]! : -1;
    if (host < 0) continue;
    let g = gcUnder.get(host);
    if (g === undefined) {
      g = order.length + extraParent.length;
      extraParent.push(host);
      gcUnder.set(host, g);
    }
    sampleNode[i] = g;
  }
  const count = order.length + extraParent.length;
  const parent = new Int32Array(count);
  const kind = new Uint8Array(count);
  const line0 = new Int32Array(count);
  const col0 = new Int32Array(count);
  const name: string[] = new Array(count);
  const url: string[] = new Array(count);
  for (let k = 0; k < extraParent.length; k++) {
    const i = order.length + k;
    parent[i] = extraParent[k]!;
    kind[i] = NodeKind.GC;
    name[i] = '(garbage collector)';
    url[i] = '';
    line0[i] = -1;
    col0[i] = -1;
  }
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    const pid = parentId.get(n.id);
    parent[i] = pid === undefined ? -1 : (index.get(pid) ?? -1);
    const cf = n.callFrame;
    name[i] = cf.functionName;
    url[i] = cf.url ?? '';
    line0[i] = cf.lineNumber;
    col0[i] = cf.columnNumber;
    kind[i] = kindOf(cf.functionName, url[i]!);
  }
  const sampleUs = new Float64Array(ns);
  const weightUs = new Float64Array(ns);
  let t = p.startTime;
  for (let i = 0; i < ns; i++) {
    t += deltas[i] ?? 0;
    sampleUs[i] = t;
  }
  // Each sample stands for the time nearest to it: from the midpoint with the previous sample
  // to the midpoint with the next (the first and last reach as far out, within the profile).
  // When the sampler is late, a gap's time splits between the samples on both sides instead of
  // all going to the earlier one, which halves the error at function boundaries.
  const fromUs = new Float64Array(ns);
  for (let i = 0; i < ns; i++) {
    const t = sampleUs[i]!;
    const prev = i > 0 ? sampleUs[i - 1]! : i + 1 < ns ? 2 * t - sampleUs[i + 1]! : p.startTime;
    const next = i + 1 < ns ? sampleUs[i + 1]! : i > 0 ? 2 * t - sampleUs[i - 1]! : Math.max(p.endTime, t);
    const from = i > 0 ? (prev + t) / 2 : Math.min(t, Math.max(p.startTime, (prev + t) / 2));
    const to = i + 1 < ns ? (t + next) / 2 : Math.max(t, Math.min(Math.max(p.endTime, t), (t + next) / 2));
    fromUs[i] = from;
    weightUs[i] = Math.max(0, to - from);
  }
  return { startUs: p.startTime, endUs: p.endTime, parent, kind, name, url, line0, col0, sampleNode, sampleUs, fromUs, weightUs };
}

/** Reads and parses one profile chunk named by a ProfileRecord; null (with reason) when unreadable. */
export function readProfileChunk(runDir: string, rec: ProfileRecord): { profile: ParsedProfile | null; error: string | null } {
  const path = isAbsolute(rec.file) ? rec.file : join(runDir, rec.file);
  try {
    return { profile: parseProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile), error: null };
  } catch (err) {
    return { profile: null, error: `CPU profile chunk ${rec.file} could not be read (${(err as Error).message}).` };
  }
}
