/**
 * Chrome trace events (opens in Perfetto and chrome://tracing): `M` process/thread names,
 * nested `X` slices per thread rebuilt from the sampled stacks (a flame chart per thread),
 * `X` slices for GC and blocked time, and flow events (`s`/`f`) for messages and wake-ups.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { ThreadState, type Report } from '../../protocol/report';
import { slicesByLane, stateFrameName, STATE_NAMES } from './laneStacks';

/** One Chrome trace event. */
export interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

/** The JSON object format of a Chrome trace. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

const us = (ms: number) => Math.round(ms * 1000);

/** Past this many timeline slices, function slices are emitted flat (leaf frame only), not nested. */
export const FLAT_TRACE_SLICES = 500_000;

/** Whether µs time ts lies in one of the sorted [start, end] pairs of a flat list. */
function covered(pairs: number[], ts: number): boolean {
  let lo = 0;
  let hi = pairs.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pairs[2 * mid + 1]! < ts) lo = mid + 1;
    else if (pairs[2 * mid]! > ts) hi = mid - 1;
    else return true;
  }
  return false;
}

/** Builds the trace in memory; times are µs since the run's start. */
export function buildChromeTrace(report: Report): ChromeTrace {
  const traceEvents: TraceEvent[] = [];
  const otherData = emitChromeTrace(report, (e) => traceEvents.push(e));
  return { traceEvents, displayTimeUnit: 'ms', otherData };
}

/** Writes the trace to a file, streaming events so a huge trace never sits in memory as objects. */
export function writeChromeTrace(report: Report, path: string): void {
  const fd = openSync(path, 'w');
  try {
    let buf: string[] = [];
    let size = 0;
    let first = true;
    const flush = () => {
      if (buf.length) writeSync(fd, buf.join(''));
      buf = [];
      size = 0;
    };
    writeSync(fd, '{"traceEvents":[');
    const otherData = emitChromeTrace(report, (e) => {
      const s = (first ? '' : ',\n') + JSON.stringify(e);
      first = false;
      buf.push(s);
      size += s.length;
      if (size > 1 << 20) flush();
    });
    flush();
    writeSync(fd, `],"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)}}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Emits every trace event to `sink`; returns the trace's otherData. */
export function emitChromeTrace(report: Report, sink: (e: TraceEvent) => void): Record<string, string> {
  const ev = { push: sink };
  const flat = report.timeline.start.length > FLAT_TRACE_SLICES;
  const lanes = slicesByLane(report);
  const frames = report.stacks.frames;
  const tidOf = (lane: number) => report.threads[lane]!.id % 10000;
  const seenPid = new Set<number>();
  report.threads.forEach((t, lane) => {
    if (!seenPid.has(t.pid)) {
      seenPid.add(t.pid);
      const pname = t.kind === 'process' ? `forked process ${t.pid}` : `node ${basename(report.program.file)}`;
      ev.push({ ph: 'M', name: 'process_name', pid: t.pid, tid: tidOf(lane), ts: 0, args: { name: `${pname} (pid ${t.pid})` } });
    }
    ev.push({ ph: 'M', name: 'thread_name', pid: t.pid, tid: tidOf(lane), ts: 0, args: { name: `${t.name} [${t.id}]` } });
    ev.push({ ph: 'M', name: 'thread_sort_index', pid: t.pid, tid: tidOf(lane), ts: 0, args: { sort_index: lane } });
  });

  // Per lane, the outermost slices emitted ([start, end] µs pairs in time order): where a flow arrow can bind.
  const cover: number[][] = report.threads.map(() => []);
  lanes.forEach((slices, lane) => {
    const t = report.threads[lane]!;
    const tid = tidOf(lane);
    const open: { frame: number; start: number }[] = [];
    let lastEnd = -Infinity;
    const closeTo = (depth: number, at: number) => {
      while (open.length > depth) {
        const o = open.pop()!;
        const f = frames[o.frame];
        if (open.length === 0) cover[lane]!.push(us(o.start), us(at));
        ev.push({
          ph: 'X',
          name: f?.[0] ?? '?',
          cat: 'function',
          pid: t.pid,
          tid,
          ts: us(o.start),
          dur: Math.max(0, us(at) - us(o.start)),
          args: f && f[1] ? { file: f[1], line: f[2] } : undefined,
        });
      }
    };
    for (const s of slices) {
      if (s.startMs - lastEnd > 0.001) closeTo(0, lastEnd);
      if (s.state === ThreadState.Running && s.stack >= 0) {
        const full = report.stacks.stacks[s.stack] ?? [];
        const stack = flat ? full.slice(-1) : full;
        let common = 0;
        while (common < open.length && common < stack.length && open[common]!.frame === stack[common]) common++;
        closeTo(common, s.startMs);
        for (let d = common; d < stack.length; d++) open.push({ frame: stack[d]!, start: s.startMs });
      } else {
        closeTo(0, s.startMs);
        if (s.state !== ThreadState.Idle) {
          cover[lane]!.push(us(s.startMs), us(s.endMs));
          ev.push({
            ph: 'X',
            name: stateFrameName(s.state, s.label),
            cat: STATE_NAMES[s.state] ?? 'state',
            pid: t.pid,
            tid,
            ts: us(s.startMs),
            dur: us(s.endMs) - us(s.startMs),
          });
        }
      }
      lastEnd = s.endMs;
    }
    closeTo(0, lastEnd);
  });

  const laneOfId = new Map(report.threads.map((t, i) => [t.id, i]));
  let flowId = 1;
  // A flow end binds to the slice around it on its thread; viewers drop an arrow whose end has none
  // (a send or receipt between two samples that saw the thread idle), so such an end gets a 1 µs mark.
  const bindAt = (lane: number, ts: number, name: string, cat: string) => {
    if (!covered(cover[lane]!, ts)) ev.push({ ph: 'X', name, cat, pid: report.threads[lane]!.pid, tid: tidOf(lane), ts, dur: 1 });
  };
  const flow = (cat: string, name: string, endName: string, fromLane: number, fromMs: number, toLane: number, toMs: number, args?: Record<string, unknown>) => {
    const a = report.threads[fromLane];
    const b = report.threads[toLane];
    if (!a || !b) return;
    const id = flowId++;
    const from = us(fromMs);
    const to = Math.max(from, us(toMs));
    bindAt(fromLane, from, name, cat);
    bindAt(toLane, to, endName, cat);
    ev.push({ ph: 'i', s: 't', name, cat, pid: a.pid, tid: tidOf(fromLane), ts: from, args });
    ev.push({ ph: 's', id, name, cat, pid: a.pid, tid: tidOf(fromLane), ts: from });
    ev.push({ ph: 'f', bp: 'e', id, name, cat, pid: b.pid, tid: tidOf(toLane), ts: to });
  };
  for (const m of report.messages) {
    if (m.receivedMs === null) continue;
    const from = laneOfId.get(m.fromThreadId);
    const to = laneOfId.get(m.toThreadId);
    if (from !== undefined && to !== undefined)
      flow('message', 'postMessage', 'message received', from, m.sentMs, to, m.receivedMs, m.bytes !== null ? { bytes: m.bytes } : undefined);
  }
  for (const w of report.timeline.wakeups)
    flow('wakeup', 'Atomics.notify', 'woken', w.fromThread, w.fromMs, w.toThread, w.toMs, w.lock ? { lock: w.lock } : undefined);

  const otherData: Record<string, string> = { tool: `parprof ${report.tool.version}`, program: report.program.file };
  if (flat) otherData.note = `Over ${FLAT_TRACE_SLICES} timeline slices: function slices show the innermost frame only.`;
  return otherData;
}
