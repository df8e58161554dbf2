/**
 * One V8 `.cpuprofile` per thread (opens in VS Code's profile viewer and Chrome DevTools),
 * rebuilt from the report's timeline: one sample per slice at original (untransformed)
 * source positions; idle gaps become "(idle)" samples so time stays where it was.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ThreadState, type Report } from '../../protocol/report';
import type { CpuProfile, CpuProfileNode } from '../profile';
import { slicesByLane, stateFrameName } from './laneStacks';

function fileUrl(file: string): string {
  return isAbsolute(file) ? pathToFileURL(file).href : file;
}

/** The cpuprofile of lane `lane` (index into report.threads). */
export function buildCpuProfile(report: Report, lane: number, slices = slicesByLane(report)[lane] ?? []): CpuProfile {
  const originUs = report.originMs * 1000;
  const nodes: CpuProfileNode[] = [];
  const scriptIds = new Map<string, string>();
  const scriptId = (url: string) => {
    if (!url) return '0';
    let id = scriptIds.get(url);
    if (!id) scriptIds.set(url, (id = String(scriptIds.size + 1)));
    return id;
  };
  const newNode = (parent: CpuProfileNode | null, functionName: string, url: string, line: number): CpuProfileNode => {
    const n: CpuProfileNode = {
      id: nodes.length + 1,
      callFrame: { functionName, scriptId: scriptId(url), url, lineNumber: line > 0 ? line - 1 : -1, columnNumber: line > 0 ? 0 : -1 },
      hitCount: 0,
      children: [],
    };
    nodes.push(n);
    parent?.children!.push(n.id);
    return n;
  };
  const root = newNode(null, '(root)', '', 0);
  const childKey = new Map<string, CpuProfileNode>();
  const child = (parent: CpuProfileNode, name: string, url: string, line: number) => {
    const key = `${parent.id}\0${name}\0${url}\0${line}`;
    let n = childKey.get(key);
    if (!n) childKey.set(key, (n = newNode(parent, name, url, line)));
    return n;
  };
  const stackNode = new Map<number, CpuProfileNode>();
  const nodeOfStack = (sid: number): CpuProfileNode => {
    let n = stackNode.get(sid);
    if (n) return n;
    n = root;
    for (const f of report.stacks.stacks[sid] ?? []) {
      const fr = report.stacks.frames[f];
      n = child(n, fr?.[0] ?? '?', fr && fr[1] ? fileUrl(fr[1]) : '', fr?.[2] ?? 0);
    }
    stackNode.set(sid, n);
    return n;
  };
  const idle = child(root, '(idle)', '', 0);
  const samples: number[] = [];
  const times: number[] = [];
  let last = -Infinity;
  for (const s of slices) {
    if (samples.length && s.startMs - last > 0.001) {
      idle.hitCount!++;
      samples.push(idle.id);
      times.push(last);
    }
    const node =
      s.state === ThreadState.Running && s.stack >= 0
        ? nodeOfStack(s.stack)
        : s.state === ThreadState.Idle
          ? idle
          : child(root, stateFrameName(s.state, null), '', 0);
    node.hitCount!++;
    samples.push(node.id);
    times.push(s.startMs);
    last = s.endMs;
  }
  const t = report.threads[lane];
  const startUs = originUs + (times.length ? times[0]! : (t?.startMs ?? 0)) * 1000;
  const endUs = originUs + (times.length ? last : (t?.endMs ?? 0)) * 1000;
  const timeDeltas: number[] = [];
  let prev = startUs;
  for (const ms of times) {
    const abs = originUs + ms * 1000;
    timeDeltas.push(Math.round(abs - prev));
    prev += Math.round(abs - prev);
  }
  return { nodes, startTime: Math.round(startUs), endTime: Math.round(endUs), samples, timeDeltas };
}

/** File name of a thread's profile: "thread-<id>-<name>.cpuprofile". */
export function cpuProfileFileName(t: { id: number; name: string }): string {
  const safe = t.name.replace(/[^\w.-]+/g, '_').slice(0, 40) || 'thread';
  return `thread-${t.id}-${safe}.cpuprofile`;
}
