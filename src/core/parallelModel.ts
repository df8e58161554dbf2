/**
 * Which parallel model a run followed, in the primer's vocabulary, with the evidence:
 * data parallel (the same function over parts of shared memory or messages), task parallel
 * (different functions per worker), pipeline (messages flowing worker to worker).
 */
import { AccessKind } from '../protocol/events';
import type { FunctionRow, ParallelModel, Report, ThreadInfo } from '../protocol/report';
import { MessageTable } from './messages';
import type { LoadedRun } from './runData';

const AGENT_FILE = /[\\/]out[\\/]agent[\w-]*\.m?js$/;

function isUserRow(f: FunctionRow): boolean {
  return !f.name.startsWith('(') && !f.file.startsWith('node:') && f.file !== '' && !AGENT_FILE.test(f.file);
}

function label(t: ThreadInfo): string {
  return t.kind === 'main' ? 'main' : `${t.name} (thread ${t.id})`;
}

function where(f: FunctionRow): string {
  return `${f.name || '(anonymous)'} (${f.file.split(/[\\/]/).pop()}:${f.line})`;
}

/** The user function each thread spent most self time in. */
function hottest(report: Report): Map<number, FunctionRow> {
  const out = new Map<number, FunctionRow>();
  for (const f of report.functions) {
    if (f.threadId < 0 || !isUserRow(f) || f.tottimeMs <= 0) continue;
    const cur = out.get(f.threadId);
    if (!cur || f.tottimeMs > cur.tottimeMs) out.set(f.threadId, f);
  }
  return out;
}

/** The threads that did the parallel work: the efficiency tree's choice, or every worker with samples. */
function workingThreads(report: Report): ThreadInfo[] {
  const ids = report.metrics.efficiencyTree?.threadIds;
  if (ids?.length) return report.threads.filter((t) => ids.includes(t.id));
  const workers = report.threads.filter((t) => t.kind !== 'main' && (t.cpuMs ?? 0) > 0);
  return workers.length ? workers : report.threads.filter((t) => t.kind === 'main');
}

/** Per buffer id, the byte range each thread wrote (non-atomic writes). */
function writeRanges(run: LoadedRun): Map<string, Map<number, [number, number]>> {
  const out = new Map<string, Map<number, [number, number]>>();
  for (const t of run.threads) {
    const seg = t.segs;
    for (let i = 0; i < seg.accesses; i++) {
      if (seg.kind[i] !== AccessKind.Write) continue;
      const id = t.bufs.get(seg.buf[i]!)?.id;
      if (!id) continue;
      let per = out.get(id);
      if (!per) out.set(id, (per = new Map()));
      const lo = seg.off[i]!;
      const hi = lo + seg.len[i]!;
      const cur = per.get(t.id);
      per.set(t.id, cur ? [Math.min(cur[0], lo), Math.max(cur[1], hi)] : [lo, hi]);
    }
  }
  return out;
}

/** Evidence about shared memory: buffers every working thread knows, and disjoint write ranges. */
function sharedMemoryEvidence(run: LoadedRun, ts: ThreadInfo[]): string[] {
  const ids = new Set(ts.map((t) => t.id));
  const known = run.threads.filter((t) => ids.has(t.id)).map((t) => new Set([...t.bufs.values()].map((b) => b.id)));
  const evidence: string[] = [];
  if (known.length >= 2) {
    const common = [...known[0]!].filter((b) => known.every((k) => k.has(b)));
    if (common.length)
      evidence.push(`all ${known.length} threads share buffer${common.length > 1 ? 's' : ''} ${common.slice(0, 3).join(', ')}`);
  }
  for (const [buf, per] of writeRanges(run)) {
    const ranges = [...per].filter(([tid]) => ids.has(tid)).sort((a, b) => a[1][0] - b[1][0]);
    if (ranges.length < 2) continue;
    const disjoint = ranges.every(([, r], i) => i === 0 || ranges[i - 1]![1][1] <= r[0]);
    const list = ranges.map(([tid, [lo, hi]]) => `thread ${tid} bytes ${lo}–${hi}`).join(', ');
    evidence.push(
      disjoint ? `each thread wrote its own part of buffer ${buf}: ${list}` : `threads wrote interleaved parts of buffer ${buf}`,
    );
  }
  return evidence;
}

/** Worker-to-worker message edges, most messages first. */
function workerEdges(report: Report, msgs: MessageTable): { from: ThreadInfo; to: ThreadInfo; count: number }[] {
  const byId = new Map(report.threads.map((t) => [t.id, t]));
  const counts = new Map<string, number>();
  for (let i = 0; i < msgs.length; i++) {
    const a = byId.get(msgs.from[i]!);
    const b = byId.get(msgs.to[i]!);
    if (!a || !b || a.kind === 'main' || b.kind === 'main' || a.id === b.id) continue;
    const key = `${a.id}>${b.id}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => {
      const [a, b] = key.split('>').map(Number);
      return { from: byId.get(a!)!, to: byId.get(b!)!, count };
    })
    .sort((x, y) => y.count - x.count);
}

/** Detects the parallel model of a run, with the evidence in plain sentences. */
export function detectParallelModel(report: Report, run: LoadedRun, msgs = MessageTable.of(report.messages)): ParallelModel | null {
  const ts = workingThreads(report);
  if (ts.length < 2) {
    const one = ts[0];
    return {
      kind: 'serial',
      evidence: [one ? `only ${label(one)} did significant work` : 'no thread did measurable work'],
    };
  }
  const hot = hottest(report);
  const groups = new Map<string, { fn: FunctionRow; threads: ThreadInfo[] }>();
  for (const t of ts) {
    const f = hot.get(t.id);
    if (!f) continue;
    const key = `${f.file}:${f.line}:${f.column}:${f.name}`;
    const g = groups.get(key) ?? { fn: f, threads: [] };
    g.threads.push(t);
    groups.set(key, g);
  }
  const evidence: string[] = [];
  const edges = workerEdges(report, msgs);
  const pipeline = edges.filter((e) => e.count >= 2);
  const shared = [...groups.values()].filter((g) => g.threads.length >= 2);
  for (const g of shared) evidence.push(`${g.threads.map(label).join(', ')} spent most of their time in the same function, ${where(g.fn)}`);
  if (pipeline.length) {
    for (const e of pipeline.slice(0, 4)) evidence.push(`${e.count} messages flowed from ${label(e.from)} to ${label(e.to)}`);
    if (shared.length)
      return {
        kind: 'mixed',
        evidence: ['a pipeline whose stages run on several threads each', ...evidence],
      };
    for (const g of groups.values()) evidence.push(`${label(g.threads[0]!)} mostly ran ${where(g.fn)}`);
    return { kind: 'pipeline', evidence };
  }
  const mem = sharedMemoryEvidence(run, ts);
  const workers = new Set(ts.filter((t) => t.kind !== 'main').map((t) => t.id));
  const mains = new Set(report.threads.filter((t) => t.kind === 'main').map((t) => t.id));
  let fromMain = 0;
  for (let i = 0; i < msgs.length; i++) if (workers.has(msgs.to[i]!) && mains.has(msgs.from[i]!)) fromMain++;
  if (groups.size === 1 && shared.length === 1) {
    evidence.push(...mem);
    if (fromMain)
      evidence.push(`the main thread sent the workers ${fromMain} message${fromMain > 1 ? 's' : ''} with their parts`);
    return { kind: 'data-parallel', evidence };
  }
  if (!shared.length && groups.size >= 2) {
    for (const g of groups.values()) evidence.push(`${label(g.threads[0]!)} mostly ran ${where(g.fn)}`);
    return {
      kind: 'task-parallel',
      evidence: ['each thread ran a different function', ...evidence],
    };
  }
  if (groups.size === 0)
    return {
      kind: 'mixed',
      evidence: ['no user function had enough samples to tell the threads apart', ...mem],
    };
  for (const g of groups.values()) if (g.threads.length === 1) evidence.push(`${label(g.threads[0]!)} mostly ran ${where(g.fn)}`);
  return {
    kind: 'mixed',
    evidence: ['some threads ran the same function, others different ones', ...evidence, ...mem],
  };
}
