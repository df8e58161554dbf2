/**
 * Where the parallel efficiency went: POP-style multiplicative factors (Scalasca, Paraver)
 * from one run's recorded timeline.
 *
 *   parallel efficiency = mean work / wall
 *     = load balance (mean work / max work)
 *     × communication efficiency (max work / wall)
 *         = serialisation (max work / (wall − transfer)) × transfer ((wall − transfer) / wall)
 *
 * Work is the running time of the compared threads minus the time spent moving messages
 * (postMessage, structured clone, delivery) and in the profiler's own code. GC is counted as
 * work and its share reported beside the tree. The profiler is left out: wall is the run's wall
 * time less the moments when only profiler code ran (its start-up in each thread, mostly: the
 * time before a thread's first sample, and "(profiler)" frames), so users do not blame their
 * code for it. Transfer time is the mean, over the compared threads,
 * of running time in messaging frames plus the time a thread sat idle or blocked while a
 * message to it was in flight.
 */
import { MessageTable } from './messages';
import { ThreadState, type EfficiencyFactor, type EfficiencyTree, type Report, type ThreadInfo } from '../protocol/report';

/** Per-thread totals (ms) the factors are built from. */
interface ThreadTimes {
  info: ThreadInfo;
  lane: number;
  running: number;
  gc: number;
  blocked: number;
  idle: number;
  transferRunning: number;
  profiler: number;
  /** Idle, blocked or "(program)" time while a message to this thread was in flight. */
  inflightWaiting: number;
  /** Running and GC slices, for the main thread's work beside the workers. */
  busy: Interval[];
  /** work = running + gc − transferRunning − delivery time in "(program)". */
  work: number;
}

const MESSAGING_NAMES = new Set([
  'postMessage',
  'structuredClone',
  'receiveMessageOnPort',
  'emitMessage',
  'serialize',
  'deserialize',
  'onmessage',
  '[nodejs.internal.kHybridDispatch]',
]);
const MESSAGING_FILES = /internal\/worker\/io|internal\/per_context\/messageport|internal\/worker\/js_transferable/;
const AGENT_FILE = /[\\/]out[\\/]agent[\w-]*\.m?js$/;
/** The core folds the agent's own frames (and the internals they call) into this one frame. */
const PROFILER_FRAME = '(profiler)';

function isAgentFrame(name: string, file: string): boolean {
  return name === PROFILER_FRAME || AGENT_FILE.test(file);
}

/** True for frames that are not the user's code: Node internals, natives, pseudo-frames, the agent. */
function isRuntimeFrame(name: string, file: string): boolean {
  return file === '' || file.startsWith('node:') || name.startsWith('(') || AGENT_FILE.test(file);
}

/** Classifies each interned stack: 1 = moving a message, 2 = the profiler's own code, 0 = work. */
function classifyStacks(report: Report): Uint8Array {
  const { frames, stacks } = report.stacks;
  const out = new Uint8Array(stacks.length);
  stacks.forEach((stack, i) => {
    // Walk from the leaf up through runtime frames only: a user handler called from
    // Node's message dispatch is the user's work, not transfer.
    for (let k = stack.length - 1; k >= 0; k--) {
      const f = frames[stack[k]!];
      if (!f) break;
      const [name, file] = f;
      if (!isRuntimeFrame(name, file)) break;
      if (MESSAGING_NAMES.has(name) || MESSAGING_FILES.test(file)) {
        out[i] = 1;
        break;
      }
      // The nearest owner of runtime work is the agent: its own cost (start-up, hooks, tagging).
      if (isAgentFrame(name, file)) {
        out[i] = 2;
        break;
      }
    }
  });
  return out;
}

type Interval = [number, number];

function mergeIntervals(xs: Interval[]): Interval[] {
  xs.sort((a, b) => a[0] - b[0]);
  const out: Interval[] = [];
  for (const [s, e] of xs) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else if (e > s) out.push([s, e]);
  }
  return out;
}

/** The intersection of two sorted, merged interval lists. */
function overlapIntervals(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const s = Math.max(a[i]![0], b[j]![0]);
    const e = Math.min(a[i]![1], b[j]![1]);
    if (e > s) out.push([s, e]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

/** Total length of the intersection of two sorted, merged interval lists. */
function overlap(a: Interval[], b: Interval[]): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.length && j < b.length) {
    const s = Math.max(a[i]![0], b[j]![0]);
    const e = Math.min(a[i]![1], b[j]![1]);
    if (e > s) sum += e - s;
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return sum;
}

/** Per-thread state totals, messaging and profiler time, from the timeline; and the profiler's delay of the run. */
function threadTimes(
  report: Report,
  msgs: MessageTable,
): {
  times: ThreadTimes[];
  profilerDelayMs: number;
  profilerTotalMs: number;
  window: Interval;
} {
  const tl = report.timeline;
  const kinds = classifyStacks(report);
  const times: ThreadTimes[] = report.threads.map((info, lane) => ({
    info,
    lane,
    running: 0,
    gc: 0,
    blocked: 0,
    idle: 0,
    transferRunning: 0,
    profiler: 0,
    inflightWaiting: 0,
    work: 0,
    busy: [],
  }));
  const waiting: Interval[][] = report.threads.map(() => []);
  const program: Interval[][] = report.threads.map(() => []);
  const profilerAll: Interval[] = [];
  // When each thread is ready to take messages: the end of its leading profiler slices.
  const ready: number[] = [];
  const started: boolean[] = [];
  const workAll: Interval[] = [];
  for (let i = 0; i < tl.start.length; i++) {
    const t = times[tl.thread[i]!];
    if (!t) continue;
    const d = tl.end[i]! - tl.start[i]!;
    const sk = tl.stack[i]!;
    if (!started[t.lane]) {
      const prof = tl.state[i] === ThreadState.Running && sk >= 0 && kinds[sk] === 2;
      if (ready[t.lane] === undefined || prof) ready[t.lane] = prof ? tl.end[i]! : tl.start[i]!;
      if (!prof) started[t.lane] = true;
    }
    switch (tl.state[i]) {
      case ThreadState.Running: {
        t.running += d;
        const k = sk >= 0 ? kinds[sk] : 0;
        if (k === 0) t.busy.push([tl.start[i]!, tl.end[i]!]);
        if (k === 1) t.transferRunning += d;
        else if (k === 2) {
          t.profiler += d;
          profilerAll.push([tl.start[i]!, tl.end[i]!]);
        }
        if (k !== 2) workAll.push([tl.start[i]!, tl.end[i]!]);
        // "(program)" time (no stack) inside an in-flight window is delivery work (deserialising).
        if (sk < 0) program[t.lane]!.push([tl.start[i]!, tl.end[i]!]);
        break;
      }
      case ThreadState.GC:
        t.gc += d;
        // Collections while a message is in flight mostly clean up after (de)serialising it.
        program[t.lane]!.push([tl.start[i]!, tl.end[i]!]);
        t.busy.push([tl.start[i]!, tl.end[i]!]);
        workAll.push([tl.start[i]!, tl.end[i]!]);
        break;
      case ThreadState.Blocked:
        t.blocked += d;
        waiting[t.lane]!.push([tl.start[i]!, tl.end[i]!]);
        break;
      default:
        t.idle += d;
        waiting[t.lane]!.push([tl.start[i]!, tl.end[i]!]);
    }
  }
  // Threads with no samples at all fall back to their totals.
  for (const t of times) {
    if (t.running + t.gc + t.blocked + t.idle > 0) continue;
    t.running = Math.max(0, (t.info.cpuMs ?? 0) - (t.info.gcMs ?? 0));
    t.gc = t.info.gcMs ?? 0;
    t.blocked = t.info.blockedMs ?? 0;
    t.idle = t.info.idleMs ?? 0;
  }
  const laneOf = new Map(report.threads.map((th, lane) => [th.id, lane]));
  const inflight: Interval[][] = report.threads.map(() => []);
  for (let i = 0; i < msgs.length; i++) {
    const lane = laneOf.get(msgs.to[i]!);
    const received = msgs.receivedMs[i]!;
    // (NaN, not received, fails every comparison.)
    if (lane === undefined || !(received > msgs.sentMs[i]!)) continue;
    // A thread cannot take a message before its own code runs: start-up is not transfer.
    const from = Math.max(msgs.sentMs[i]!, ready[lane] ?? Infinity);
    if (from < received) inflight[lane]!.push([from, received]);
  }
  for (const t of times) {
    const f = mergeIntervals(inflight[t.lane]!);
    const delivering = overlap(mergeIntervals(program[t.lane]!), f);
    t.inflightWaiting = overlap(mergeIntervals(waiting[t.lane]!), f) + delivering;
    t.work = Math.max(0, t.running + t.gc - t.transferRunning - t.profiler - delivering);
  }
  // A thread's time before its first sample is the agent starting up (the sampler starts last).
  const firstSample = new Map<number, number>();
  for (let i = 0; i < tl.start.length; i++) {
    const lane = tl.thread[i]!;
    const cur = firstSample.get(lane);
    if (cur === undefined || tl.start[i]! < cur) firstSample.set(lane, tl.start[i]!);
  }
  for (const [lane, first] of firstSample) {
    const th = report.threads[lane];
    if (th && first > th.startMs) profilerAll.push([th.startMs, first]);
  }
  // Moments when some thread ran profiler code and no thread did anything else.
  // The window analysed starts when some thread first runs something other than the
  // profiler: process start-up is not the program's parallel structure.
  const work = mergeIntervals(workAll);
  const window: Interval = [work.length ? Math.min(work[0]![0], report.wallMs) : 0, report.wallMs];
  const profAll = mergeIntervals(profilerAll);
  const alone = (p: Interval[]) => p.reduce((a, [s0, e]) => a + e - s0, 0) - overlap(p, work);
  return {
    times,
    profilerDelayMs: alone(overlapIntervals(profAll, [window])),
    profilerTotalMs: alone(profAll),
    window,
  };
}

/** Workers (and forked processes) do the parallel work; the main thread joins when it computes beside them. */
function comparedThreads(times: ThreadTimes[]): ThreadTimes[] {
  const workers = times.filter((t) => t.info.kind !== 'main');
  const mains = times.filter((t) => t.info.kind === 'main');
  if (workers.filter((t) => t.work > 0).length === 0) return mains.length ? mains : times.slice(0, 1);
  const meanWorker = workers.reduce((s, t) => s + t.work, 0) / workers.length;
  const lo = Math.min(...workers.map((t) => t.info.startMs));
  const hi = Math.max(...workers.map((t) => t.info.endMs));
  const out = [...workers];
  for (const m of mains) {
    const during = overlap(mergeIntervals(m.busy), [[lo, hi]]);
    if (during >= 0.25 * meanWorker) out.unshift(m);
  }
  return out;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

function ms(x: number): string {
  return x >= 100 ? `${Math.round(x)} ms` : `${x.toFixed(1)} ms`;
}

function threadName(t: ThreadInfo): string {
  return t.kind === 'main' ? 'the main thread' : `${t.name} (thread ${t.id})`;
}

/** The function where a thread spent most of its own time, as "name (file:line)", or null. */
function hottestFunction(report: Report, threadId: number): string | null {
  let best: Report['functions'][number] | null = null;
  for (const f of report.functions) {
    if (f.threadId !== threadId || f.name.startsWith('(') || f.file.startsWith('node:') || AGENT_FILE.test(f.file)) continue;
    if (!best || f.tottimeMs > best.tottimeMs) best = f;
  }
  if (!best || best.tottimeMs <= 0) return null;
  const file = best.file.split(/[\\/]/).pop();
  return `${best.name || '(anonymous)'} (${file}:${best.line})`;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** The efficiency breakdown of one run (all its messages in `msgs`, report.messages may be thinned); null when the run recorded no timeline at all. */
export function computeEfficiency(report: Report, msgs = MessageTable.of(report.messages)): EfficiencyTree | null {
  const rawWall = report.wallMs;
  if (!(rawWall > 0) || report.threads.length === 0) return null;
  const { times: all, profilerDelayMs, profilerTotalMs, window } = threadTimes(report, msgs);
  const span = window[1] - window[0];
  const ts = comparedThreads(all);
  if (ts.length === 0 || ts.every((t) => t.work <= 0 && t.running <= 0)) return null;
  const works = ts.map((t) => t.work);
  const maxWork = Math.max(...works);
  const meanWork = works.reduce((a, b) => a + b, 0) / ts.length;
  const wall = Math.max(maxWork, span - profilerDelayMs, 1e-9);
  const slowest = ts[works.indexOf(maxWork)]!;
  const fastest = ts[works.indexOf(Math.min(...works))]!;

  const loadBalance = maxWork > 0 ? clamp01(meanWork / maxWork) : 1;
  const communication = clamp01(maxWork / wall);
  const transferMs = Math.min(wall - maxWork, ts.reduce((s, t) => s + t.transferRunning + t.inflightWaiting, 0) / ts.length);
  const transfer = clamp01((wall - Math.max(0, transferMs)) / wall);
  const serialisation = transfer > 0 ? clamp01(communication / transfer) : 0;
  const parallelEfficiency = loadBalance * communication;
  const workTotal = ts.reduce((s, t) => s + t.running + t.gc, 0);
  const gcShare = workTotal > 0 ? ts.reduce((s, t) => s + t.gc, 0) / workTotal : 0;
  const profilerShare = report.stacks.stacks.length ? clamp01(profilerTotalMs / rawWall) : null;

  const osf = report.metrics.observedSerialFraction ?? null;
  const ceiling = report.metrics.amdahlCeiling ?? (osf !== null && osf > 0 ? 1 / osf : null);
  const n = ts.length;
  const who = n === 1 ? threadName(ts[0]!.info) : `${n} threads`;

  const sentences: Record<EfficiencyFactor['key'], string> = {
    parallelEfficiency:
      `${who} did ${ms(meanWork)} of work each on average in ${ms(wall)} of wall time` +
      `${rawWall - wall > 0.5 ? ` (${ms(rawWall)} less ${leftOut(rawWall - span, profilerDelayMs)})` : ''}: ` +
      `${pct(parallelEfficiency)} of the ideal ${n === 1 ? 'for one thread' : `${n}× speedup (${(parallelEfficiency * n).toFixed(2)}× achieved)`}.`,
    loadBalance: loadBalanceSentence(report, ts, slowest, fastest, meanWork, maxWork),
    communicationEfficiency:
      `The busiest thread, ${threadName(slowest.info)}, worked ${pct(communication)} of the wall time; ` +
      `the rest it spent waiting or moving data.`,
    serialisation: serialisationSentence(report, ts, serialisation, window),
    transfer: transferSentence(msgs, ts, transferMs, transfer),
    serialFraction:
      osf === null
        ? 'No samples to tell when only one thread was busy.'
        : `Only one thread was busy for ${pct(osf)} of the wall time` +
          (ceiling
            ? `, so by Amdahl's law this program can never run more than ${ceiling.toFixed(1)}× faster, however many workers it gets.`
            : '.') +
          (report.metrics.serialPhases.length ? ` The longest serial phase ran ${ms(longestPhase(report))}.` : ''),
    gc:
      gcShare > 0.001
        ? `Garbage collection took ${pct(gcShare)} of the busy time (most in ${threadName(maxBy(ts, (t) => t.gc).info)}); it is counted as work above, not as a parallel loss.`
        : 'Garbage collection took a negligible share of the busy time.',
    profiler:
      profilerShare === null
        ? 'The profiler overhead could not be measured.'
        : `The profiler's own code (start-up, module transform, message tagging) delayed the run by ${ms(profilerTotalMs)}, ` +
          `${pct(profilerShare)} of the wall time; the factors above leave it out.`,
  };
  const factors: EfficiencyFactor[] = [
    {
      key: 'parallelEfficiency',
      label: 'Parallel efficiency',
      value: parallelEfficiency,
      parent: null,
      sentence: sentences.parallelEfficiency,
    },
    {
      key: 'loadBalance',
      label: 'Load balance',
      value: loadBalance,
      parent: 'parallelEfficiency',
      sentence: sentences.loadBalance,
    },
    {
      key: 'communicationEfficiency',
      label: 'Communication efficiency',
      value: communication,
      parent: 'parallelEfficiency',
      sentence: sentences.communicationEfficiency,
    },
    {
      key: 'serialisation',
      label: 'Serialisation',
      value: serialisation,
      parent: 'communicationEfficiency',
      sentence: sentences.serialisation,
    },
    {
      key: 'transfer',
      label: 'Transfer',
      value: transfer,
      parent: 'communicationEfficiency',
      sentence: sentences.transfer,
    },
    {
      key: 'serialFraction',
      label: 'Observed serial fraction',
      value: osf,
      parent: null,
      sentence: sentences.serialFraction,
    },
    {
      key: 'gc',
      label: 'GC share',
      value: gcShare,
      parent: null,
      sentence: sentences.gc,
    },
    {
      key: 'profiler',
      label: 'Profiler overhead',
      value: profilerShare,
      parent: null,
      sentence: sentences.profiler,
    },
  ];
  return {
    parallelEfficiency,
    loadBalance,
    communicationEfficiency: communication,
    serialisation,
    transfer,
    gcShare,
    profilerShare,
    slowestThreadId: n > 1 ? slowest.info.id : null,
    fastestThreadId: n > 1 ? fastest.info.id : null,
    explanations: factors.map((f) => f.sentence),
    threadIds: ts.map((t) => t.info.id),
    observedSerialFraction: osf,
    amdahlCeiling: ceiling,
    factors,
  };
}

function leftOut(beforeMs: number, profilerMs: number): string {
  const parts: string[] = [];
  if (beforeMs > 0.5) parts.push(`${ms(beforeMs)} before the program's own code first ran`);
  if (profilerMs > 0.5) parts.push(`${ms(profilerMs)} when only the profiler ran`);
  return parts.join(' and ');
}

function maxBy<T>(xs: T[], f: (x: T) => number): T {
  return xs.reduce((a, b) => (f(b) > f(a) ? b : a));
}

function longestPhase(report: Report): number {
  return Math.max(0, ...report.metrics.serialPhases.map((p) => p.endMs - p.startMs));
}

function loadBalanceSentence(
  report: Report,
  ts: ThreadTimes[],
  slowest: ThreadTimes,
  fastest: ThreadTimes,
  mean: number,
  max: number,
): string {
  if (ts.length < 2) return 'Only one thread did the work, so there is nothing to balance.';
  if (max <= 0) return 'No thread did measurable work.';
  const hot = hottestFunction(report, slowest.info.id);
  const ratio = max / Math.max(mean, 1e-9);
  if (ratio < 1.05) return `The ${ts.length} threads did nearly equal work (the busiest only ${ratio.toFixed(2)}× the mean).`;
  return (
    `${cap(threadName(slowest.info))} worked ${ratio.toFixed(1)}× longer than the mean (${ms(max)} vs ${ms(mean)})` +
    `${hot ? `, mostly in ${hot}` : ''}, while ${threadName(fastest.info)} did only ${ms(fastest.work)}: its share of the work was bigger.`
  );
}

function serialisationSentence(report: Report, ts: ThreadTimes[], value: number, window: Interval): string {
  const n = ts.length;
  const blocked = ts.reduce((s, t) => s + t.blocked, 0) / n;
  // Within the analysed window: time before the thread existed or after it ended.
  const span = window[1] - window[0];
  const alive = (t: ThreadTimes) => Math.max(0, Math.min(window[1], t.info.endMs) - Math.max(window[0], t.info.startMs));
  const notAlive = ts.reduce((s, t) => s + Math.max(0, span - alive(t)), 0) / n;
  const idle = ts.reduce((s, t) => s + t.idle, 0) / n;
  const parts: string[] = [];
  const lock = [...report.locks].sort((a, b) => b.waitMs + b.spinMs - (a.waitMs + a.spinMs))[0];
  if (blocked > 0.5) {
    const site = lock?.sites.find((x) => x.role === 'acquire' || x.role === 'wait');
    const where =
      lock && lock.waitMs + lock.spinMs > 0 ? ` on lock ${lock.id}${site ? ` (${site.file.split(/[\\/]/).pop()}:${site.line})` : ''}` : '';
    parts.push(`${ms(blocked)} blocked${where}`);
  }
  if (notAlive > 0.5) parts.push(`${ms(notAlive)} before starting or after finishing while other threads ran`);
  if (idle > 0.5) parts.push(`${ms(idle)} idle`);
  const phases = report.metrics.serialPhases;
  const serialMs = phases.reduce((s, p) => s + p.endMs - p.startMs, 0);
  const phaseNote = serialMs > 0.5 ? ` Serial phases, where one thread ran alone, add up to ${ms(serialMs)}.` : '';
  if (value > 0.95 && !parts.length) return 'Threads hardly ever waited on each other.';
  return `Each thread spent on average ${parts.length ? parts.join(', ') : 'little time waiting'} waiting for others.${phaseNote}`;
}

function transferSentence(msgs: MessageTable, ts: ThreadTimes[], transferMs: number, value: number): string {
  if (!msgs.length) return 'No messages were passed between threads.';
  let bytes = 0;
  for (let i = 0; i < msgs.length; i++) bytes += Math.max(0, msgs.bytes[i]!);
  const size = bytes > 0 ? `, ${(bytes / 1048576).toFixed(bytes >= 1048576 ? 1 : 3)} MB in all` : '';
  if (value > 0.98) return `${msgs.length} messages${size} cost little: ${ms(transferMs)} per thread.`;
  const worst = maxBy(ts, (t) => t.transferRunning + t.inflightWaiting);
  return (
    `Moving ${msgs.length} messages${size} (structured clone and delivery) cost each thread ${ms(transferMs)} on average; ` +
    `${threadName(worst.info)} lost the most, ${ms(worst.transferRunning + worst.inflightWaiting)}.`
  );
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
