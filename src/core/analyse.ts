/**
 * LoadedRun → Report: threads, cProfile rows, timeline, messages and metrics here; races,
 * locks/deadlocks, efficiency and the parallel model from their own modules.
 */
import { basename } from 'node:path';
import { REPORT_SCHEMA, type FunctionRow, type ProgramInfo, type Report, type ThreadInfo, type ToolInfo } from '../protocol/report';
import { computeEfficiency } from './efficiency';
import { attachCallEdges, FunctionIdentities, identifyNodes, PROFILER_FRAME, mergeFunctionRows, threadCallCounts, threadCountsOn, threadFunctionRows, ThreadFunctionTimes } from './functions';
import { FunctionMapper, lastSeenUs, loadRun } from './load';
import { analyseLocks } from './locks';
import { pairMessages } from './messages';
import { computeMetrics } from './metrics';
import { detectParallelModel } from './parallelModel';
import { toolVersion } from './packageInfo';
import { readProfileChunk } from './profile';
import { analyseRaces } from './races';
import type { LoadedRun, LoadedThread } from './runData';
import { idleTimeOf, nodeStacks, StackInterner, ThreadSlices, threadOverlays, TimelineBuilder } from './timeline';

/** Most timeline slices a report holds (over all threads); past it slices are summarised. */
export const TIMELINE_BUDGET = 1_000_000;
/**
 * Message and wake-up arrows the report keeps, each: a program passing millions of messages
 * made report.json and report.html hundreds of MB (4M messages: 339 + 379 MB, 3.6 GB peak) and,
 * past ~5M, crashed writing them. Counts and times are computed from all of them first.
 */
export const ARROW_BUDGET = 100_000;

const ERROR_LINE = /^(?:[\w$.]*(?:Error|Exception)|Uncaught \w+|\w+Error \[\w+\])(?::.*)?$/;
const LOCATION_LINE = /^(\/.+|[A-Za-z]:\\.+|file:\/\/.+|node:.+):(\d+)$/;

/** One sentence naming the error in a stderr tail ("SyntaxError: Unexpected token (at app.js:3)"), or null. */
export function errorSentence(stderrTail: string): string | null {
  const lines = stderrTail.split(/\r?\n/).map((l) => l.trimEnd());
  let err: string | null = null;
  let errAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (ERROR_LINE.test(lines[i]!.trim()) && !/^\s/.test(lines[i]!)) {
      err = lines[i]!.trim();
      errAt = i;
      break;
    }
  }
  if (!err) return null;
  let where: string | null = null;
  for (let i = errAt - 1; i >= 0; i--) {
    const m = LOCATION_LINE.exec(lines[i]!);
    if (m) {
      where = `${m[1]}:${m[2]}`;
      break;
    }
  }
  if (!where) {
    const at = lines.slice(errAt + 1).find((l) => /^\s+at /.test(l));
    const m = at && /\(?((?:\/|file:\/\/)[^():]+):(\d+):\d+\)?$/.exec(at.trim());
    if (m) where = `${m[1]}:${m[2]}`;
  }
  return where ? `${err} (at ${where})` : err;
}

function threadError(t: LoadedThread): string | null {
  if (!t.exit || t.exit.reason !== 'uncaught') return null;
  return t.exit.error ? (errorSentence(t.exit.error) ?? t.exit.error.split('\n')[0]!) : 'an uncaught exception';
}

function programInfo(run: LoadedRun): ProgramInfo {
  const m = run.manifest;
  const o = run.outcome;
  let outcome = o?.outcome ?? (run.threads.some((t) => t.exit) ? 'exited' : 'crashed');
  if (outcome !== 'timeout' && outcome !== 'cancelled' && run.threads.some((t) => t.deadlocks.length)) outcome = 'deadlock';
  const main = run.threads.find((t) => t.id === 0);
  let error: string | null = null;
  switch (outcome) {
    case 'timeout':
      error = 'The program was stopped at the time limit (--timeout); the report holds what ran until then.';
      break;
    case 'cancelled':
      error = 'The run was cancelled; the report holds what ran until then.';
      break;
    case 'deadlock':
      error = 'The program deadlocked: every live thread was blocked.';
      break;
    case 'failed-to-start':
      error = (o && errorSentence(o.stderrTail)) ?? `The program could not be started${o?.stderrTail ? `: ${o.stderrTail.trim().split('\n').pop()}` : '.'}`;
      break;
    default: {
      const crashed = (o?.exitCode ?? 0) !== 0 || o?.signal || (main && threadError(main));
      if (crashed) {
        const why = (main && threadError(main)) ?? (o ? errorSentence(o.stderrTail) : null);
        if (o?.signal) error = `The program was killed by ${o.signal}.`;
        else if (why) error = why;
        else if (o?.exitCode) error = `The program exited with code ${o.exitCode}.`;
        if (outcome === 'exited' && (why || o?.signal)) outcome = 'crashed';
      }
    }
  }
  return {
    file: m?.file ?? main?.info.entry ?? '',
    args: m?.args ?? [],
    cwd: m?.cwd ?? '',
    // A process killed by a signal has no exit code: never borrow the main thread's last recorded one.
    exitCode: o ? o.exitCode : (main?.exit?.code ?? null),
    signal: o?.signal ?? null,
    error,
    outcome,
  };
}

function toolInfo(run: LoadedRun): ToolInfo {
  const main = run.threads.find((t) => t.id === 0) ?? run.threads[0];
  const opts = run.manifest?.options;
  return {
    name: 'parprof',
    version: run.manifest?.toolVersion ?? toolVersion(),
    backend: main?.info.backend ?? 'none',
    backendReason: main?.info.backendReason ?? 'no thread data was recorded',
    nodeVersion: main?.info.nodeVersion ?? null,
    sampleIntervalUs: opts?.sampleIntervalUs ?? 1000,
    callCounts: opts?.counts ?? run.threads.some((t) => t.counts.size > 0),
    raceDetection: opts?.races ?? run.threads.some((t) => t.segs.length > 0),
    raceSampleRate: opts?.raceSample ?? null,
  };
}

function threadKind(t: LoadedThread): ThreadInfo['kind'] {
  if (t.info.kind === 'worker') return 'worker';
  return t.id >= 10000 ? 'process' : 'main';
}

/** The agent's note that an ES module hooks thread shifted later workers' thread ids. */
const ESM_HOOKS_WARNING = /^Node runs ES module hooks on a thread of their own/;

/**
 * Processes whose recorded thread ids skip a number: something unprofiled (an ES module hooks
 * thread) took an id before a worker that was profiled. Without a gap no worker's id moved, and
 * the hooks warning would only confuse.
 */
export function processesWithTidGaps(run: LoadedRun): Set<number> {
  const tids = new Map<number, Set<number>>();
  for (const t of run.threads) (tids.get(t.pid) ?? tids.set(t.pid, new Set()).get(t.pid)!).add(t.tid);
  const out = new Set<number>();
  for (const [pid, set] of tids) {
    const max = Math.max(...set);
    for (let k = 0; k < max; k++) if (!set.has(k)) out.add(pid);
  }
  return out;
}

/** A thread's default name: "main", "worker <tid>", or for a forked process (cluster workers too) its entry and pid. */
function threadName(t: LoadedThread): string {
  if (t.info.kind === 'worker') return t.info.name || `worker ${t.tid}`;
  if (threadKind(t) !== 'process') return t.info.name || 'main';
  const entry = t.info.entry ? basename(t.info.entry) : 'process';
  return `${entry} (pid ${t.pid})`;
}

/** The thread that started worker t (same process), if it was recorded. */
function parentWorkerOf(run: LoadedRun, t: LoadedThread): LoadedThread | undefined {
  return run.threads.find((x) => x.pid === t.pid && x.tid === t.info.parentTid);
}

function parentOf(run: LoadedRun, t: LoadedThread): number | null {
  if (t.info.kind === 'worker') return parentWorkerOf(run, t)?.id ?? null;
  for (const x of run.threads) if (x.forks.some((f) => f.childPid === t.pid)) return x.id;
  return null;
}

/**
 * A thread's exit code: its own exit record's, else what its parent's 'exit' event said (a worker
 * stopped by terminate() in the middle of a wait records no code of its own; Node reports 1).
 */
function exitCodeOf(run: LoadedRun, t: LoadedThread): number | null {
  const own = t.exit?.code ?? null;
  if (own !== null || t.info.kind !== 'worker') return own;
  return parentWorkerOf(run, t)?.joins.find((j) => j.childTid === t.tid)?.exitCode ?? null;
}

/** Analyses a loaded run into the report (schema 1); arrowBudget caps report.messages and timeline.wakeups (tests use small ones). */
export function analyseRun(run: LoadedRun, arrowBudget = ARROW_BUDGET): Report {
  const ids = new FunctionIdentities();
  const interner = new StackInterner();
  const tl = new TimelineBuilder(run.originUs);
  const warnings: string[] = [];
  const threads: ThreadInfo[] = [];
  const functions: FunctionRow[] = [];
  const ms = (us: number) => (us - run.originUs) / 1000;
  let endUs = run.originUs;

  const tidGap = processesWithTidGaps(run);
  run.threads.forEach((t, lane) => {
    const mapper = new FunctionMapper(t);
    const times = new ThreadFunctionTimes();
    const overlays = threadOverlays(t);
    const slices = new ThreadSlices(Math.max(20_000, Math.floor(TIMELINE_BUDGET / Math.max(1, run.threads.length))), overlays);
    const transformed = new Set<number>();
    let sampled = false;
    for (const rec of [...t.profiles].sort((a, b) => a.startUs - b.startUs)) {
      const { profile, error } = readProfileChunk(run.dir, rec);
      if (error) warnings.push(error);
      if (!profile) continue;
      sampled = true;
      const nodeFn = identifyNodes(profile, mapper, ids, transformed);
      times.addProfile(profile, nodeFn);
      slices.addSamples(profile, nodeStacks(profile, nodeFn, interner, ids));
    }
    slices.finish();
    if (slices.minUs > 0) {
      warnings.push(
        `The timeline of thread ${t.id} was summarised from ${slices.rawCount} to ${slices.start.length} slices: ` +
          `neighbouring samples shorter than ${(slices.minUs / 1000).toFixed(2)} ms were merged` +
          `${slices.crossState ? ', each showing its longest state' : ''} (function times and state totals are exact).`,
      );
    }
    const totals = tl.addThread(lane, slices);
    const { rows, ids: rowIds } = threadFunctionRows(t.id, times, threadCallCounts(t, ids), threadCountsOn(t), transformed, ids);
    attachCallEdges(rows, rowIds, functions.length, times);
    for (const r of rows) functions.push(r);
    const end = t.exit?.us ?? lastSeenUs(t);
    endUs = Math.max(endUs, end);
    const gcFromRecords = t.gc.reduce((s, g) => s + g.dur.reduce((a, b) => a + b, 0), 0);
    threads.push({
      id: t.id,
      key: t.key,
      pid: t.pid,
      name: threadName(t),
      kind: threadKind(t),
      entry: t.info.entry,
      parentId: parentOf(run, t),
      startMs: ms(t.info.startUs),
      endMs: ms(end),
      exitCode: exitCodeOf(run, t),
      cpuMs: sampled ? (totals.running + totals.gc) / 1000 : null,
      blockedMs: t.atoms.length || sampled ? totals.blocked / 1000 : null,
      idleMs: sampled ? totals.idle / 1000 : null,
      gcMs: t.gc.length ? gcFromRecords / 1000 : sampled ? totals.gc / 1000 : null,
      complete: t.complete,
    });
    for (const w of t.warnings) if (!(ESM_HOOKS_WARNING.test(w) && !tidGap.has(t.pid))) warnings.push(w);
    const err = threadError(t);
    if (err && t.info.kind === 'worker') warnings.push(`Worker ${t.id} (${t.info.name || 'unnamed'}) crashed: ${err}`);
    if (!t.complete) warnings.push(`Thread ${t.id} (${t.info.name || t.info.kind}) stopped before writing all its data; its numbers are partial.`);
  });
  for (const r of mergeFunctionRows(functions).sort((a, b) => b.cumtimeMs - a.cumtimeMs || b.tottimeMs - a.tottimeMs)) functions.push(r);

  const program = programInfo(run);
  const wallMs = Math.max(0, ms(endUs));
  const timeline = tl.data;
  const report: Report = {
    schema: REPORT_SCHEMA,
    tool: toolInfo(run),
    program,
    wallMs,
    originMs: run.originUs / 1000,
    partial: run.threads.length === 0 || run.threads.some((t) => !t.complete) || program.outcome !== 'exited',
    warnings,
    threads,
    functions,
    races: [],
    locks: [],
    deadlocks: [],
    messages: [],
    metrics: computeMetrics(timeline, wallMs, profilerLeaf(interner, ids), run.manifest?.cores),
    diagnostics: [],
    timeline,
    stacks: interner.table(ids),
  };
  if (run.threads.length === 0) warnings.push('No thread recorded any data: the agent did not start in the program.');
  const messages = pairMessages(run.threads, run.originUs);
  report.messages = messages.thinned(arrowBudget);
  report.races = guard('race detection', warnings, () => analyseRaces(run), []);
  const locks = guard('lock analysis', warnings, () => analyseLocks(run, idleTimeOf(timeline, run.originUs)), { locks: [], deadlocks: [], wakeups: [] });
  report.locks = locks.locks;
  report.deadlocks = locks.deadlocks;
  timeline.wakeups = locks.wakeups;
  report.metrics.efficiencyTree = guard('efficiency breakdown', warnings, () => computeEfficiency(report, messages), null);
  report.metrics.parallelModel = guard('parallel model', warnings, () => detectParallelModel(report, run, messages), null);
  if (messages.length > arrowBudget) {
    warnings.push(
      `${messages.length} messages were passed: the report keeps ${arrowBudget} of them, evenly spread over the run, for the timeline's arrows ` +
        `(message counts and transfer times use all of them).`,
    );
  }
  const wakes = timeline.wakeups.length;
  if (wakes > arrowBudget) {
    timeline.wakeups = thinEvenly(timeline.wakeups, arrowBudget);
    warnings.push(`${wakes} Atomics wake-ups were paired: the report keeps ${arrowBudget} of their arrows, evenly spread over the run (lock numbers use all of them).`);
  }
  return report;
}

/** `budget` of the items (kept in order), evenly spread over them. */
export function thinEvenly<T>(items: T[], budget: number): T[] {
  if (items.length <= budget) return items;
  const out = new Array<T>(budget);
  for (let i = 0; i < budget; i++) out[i] = items[Math.floor((i * items.length) / budget)]!;
  return out;
}

/** Whether a stack's innermost frame is the profiler's own code. */
function profilerLeaf(interner: StackInterner, ids: FunctionIdentities): (stack: number) => boolean {
  return (stack) => {
    const s = interner.stacks[stack];
    return !!s && s.length > 0 && ids.name[s[s.length - 1]!] === PROFILER_FRAME;
  };
}

/** Runs one analysis; a bug in it becomes a warning instead of losing the whole report (tests still see it). */
function guard<T>(what: string, warnings: string[], fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    if (process.env.PARPROF_STRICT) throw err;
    warnings.push(`The ${what} failed (${(err as Error).message}); that part of the report is empty.`);
    return fallback;
  }
}

/** Loads and analyses a run directory. */
export function analyseRunDir(dir: string): Report {
  return analyseRun(loadRun(dir));
}
