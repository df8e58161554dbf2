/**
 * V8 `.cpuprofile` chunks parsed into flat typed arrays (node parents, sample nodes, sample
 * times and weights), so analyses walk samples without one object per sample. A sample's
 * weight is the real time to the next sample (the last one: to the profile's end).
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

/** A parsed profile chunk: node i has parent[i] (-1 = none), kind[i], and its callFrame fields. */
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
  /** Per sample: node index, absolute time (µs), weight (µs). */
  sampleNode: Int32Array;
  sampleUs: Float64Array;
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
  const count = order.length;
  const parent = new Int32Array(count);
  const kind = new Uint8Array(count);
  const line0 = new Int32Array(count);
  const col0 = new Int32Array(count);
  const name: string[] = new Array(count);
  const url: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
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
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const ns = samples.length;
  const sampleNode = new Int32Array(ns);
  const sampleUs = new Float64Array(ns);
  const weightUs = new Float64Array(ns);
  let t = p.startTime;
  for (let i = 0; i < ns; i++) {
    t += deltas[i] ?? 0;
    sampleUs[i] = t;
    sampleNode[i] = index.get(samples[i]!) ?? -1;
  }
  for (let i = 0; i < ns; i++) {
    const next = i + 1 < ns ? sampleUs[i + 1]! : Math.max(p.endTime, sampleUs[i]!);
    weightUs[i] = Math.max(0, next - sampleUs[i]!);
  }
  return { startUs: p.startTime, endUs: p.endTime, parent, kind, name, url, line0, col0, sampleNode, sampleUs, weightUs };
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
