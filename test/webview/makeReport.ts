/**
 * Realistic synthetic Reports for the viewer's tests and the 10M-event benchmark: threads in
 * one or two processes, alternating running/idle/blocked/GC slices with stacks and lock
 * labels, a call graph of function rows per thread and merged, races, locks, deadlocks,
 * messages, wake-ups and the run's metrics. Deterministic for a given seed.
 */
import type { FunctionRow, Report, ThreadInfo } from '../../src/protocol/report';
import type { ScalingResult } from '../../src/protocol/scaling';

/** What to generate. */
export interface SyntheticOptions {
  threads?: number;
  /** Total timeline slices over all threads. */
  events?: number;
  /** Distinct functions per thread. */
  functions?: number;
  /** Also write per-thread function rows, not only the merged ones (default true). */
  perThreadFunctions?: boolean;
  races?: number;
  locks?: number;
  /** Put the last thread in a forked child process. */
  childProcess?: boolean;
  wallMs?: number;
  seed?: number;
  /** Build the timeline columns as typed arrays (cast), for 10M-slice reports. */
  typed?: boolean;
  outcome?: string;
  sampleIntervalUs?: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['multiplyRows', 'dot', 'partition', 'reduceChunk', 'hashBlock', 'parseLine', 'fib', 'mandelRow', 'sortRun', 'mergeRuns', 'encode', 'decode', 'lock', 'unlock', 'onMessage', 'main'];

/** Generates a synthetic Report. */
export function makeReport(opts: SyntheticOptions = {}): Report {
  const nThreads = opts.threads ?? 4;
  const nEvents = opts.events ?? 2000;
  const nFns = opts.functions ?? 40;
  const wallMs = opts.wallMs ?? 1000;
  const rand = rng(opts.seed ?? 1);
  const child = opts.childProcess ?? false;

  const threads: ThreadInfo[] = [];
  for (let i = 0; i < nThreads; i++) {
    const inChild = child && i === nThreads - 1 && nThreads > 1;
    const id = inChild ? 10000 : i;
    const startMs = i === 0 ? 0 : 2 + i * 0.5;
    const endMs = i === 0 ? wallMs : wallMs - 5 - i * 0.3;
    threads.push({
      id,
      key: `${inChild ? 4243 : 4242}:${inChild ? 0 : i}`,
      pid: inChild ? 4243 : 4242,
      name: i === 0 ? 'main' : inChild ? 'child process' : `worker ${i}`,
      kind: i === 0 ? 'main' : inChild ? 'process' : 'worker',
      entry: i === 0 ? '/app/main.js' : inChild ? '/app/child.js' : '/app/worker.js',
      parentId: i === 0 ? null : 0,
      startMs,
      endMs,
      exitCode: 0,
      cpuMs: 0,
      blockedMs: 0,
      idleMs: 0,
      gcMs: 0,
      complete: true,
    });
  }

  // Stacks: a few frames per stack over a frame table.
  const frames: [string, string, number][] = [];
  for (let f = 0; f < nFns; f++) frames.push([NAMES[f % NAMES.length]! + (f >= NAMES.length ? `_${f}` : ''), `/app/${f % 3 === 0 ? 'main' : 'worker'}.js`, 10 + f * 7]);
  const stacks: number[][] = [];
  for (let s = 0; s < 64; s++) {
    const depth = 2 + (s % 4);
    const st: number[] = [frames.length - 1 >= 15 ? 15 : 0];
    for (let d = 1; d < depth; d++) st.push(Math.floor(rand() * nFns));
    stacks.push(st);
  }

  // Timeline: slices per lane, contiguous with occasional gaps.
  const mk = (n: number): number[] => (opts.typed ? (new Float64Array(n) as unknown as number[]) : new Array<number>(n).fill(0));
  const tl = { thread: mk(nEvents), start: mk(nEvents), end: mk(nEvents), state: mk(nEvents), stack: mk(nEvents), label: mk(nEvents) };
  const labels = ['lock L0 (shared@0)', 'lock L1 (shared@8)', 'Atomics.wait queue@16'];
  let k = 0;
  for (let i = 0; i < nThreads; i++) {
    const th = threads[i]!;
    const count = Math.floor(nEvents / nThreads) + (i < nEvents % nThreads ? 1 : 0);
    const span = th.endMs - th.startMs;
    const mean = span / count;
    let t = th.startMs;
    const acc = [0, 0, 0, 0];
    for (let j = 0; j < count; j++, k++) {
      const r = rand();
      // Workers mostly run; the main thread mostly idles; some blocked on locks, a little GC.
      const state = i === 0 ? (r < 0.3 ? 0 : r < 0.9 ? 1 : 3) : r < 0.7 ? 0 : r < 0.85 ? 2 : r < 0.95 ? 1 : 3;
      const remaining = th.endMs - t;
      const dur = j === count - 1 ? remaining : Math.min(remaining, mean * (0.2 + rand() * 1.6));
      tl.thread[k] = i;
      tl.start[k] = t;
      tl.end[k] = t + dur;
      tl.state[k] = state;
      tl.stack[k] = state === 0 || state === 2 ? Math.floor(rand() * stacks.length) : -1;
      tl.label[k] = state === 2 ? Math.floor(rand() * labels.length) : -1;
      acc[state]! += dur;
      t += dur;
    }
    th.cpuMs = acc[0]!;
    th.idleMs = acc[1]!;
    th.blockedMs = acc[2]!;
    th.gcMs = acc[3]!;
  }

  // Function rows per thread and merged, with a simple call graph.
  const functions: FunctionRow[] = [];
  const perThread = (threadId: number, scale: number): void => {
    const base = functions.length;
    for (let f = 0; f < nFns; f++) {
      const ncalls = Math.floor(1 + rand() * 5000 * scale);
      const recursive = f % 7 === 6;
      const tottimeMs = round3(rand() * 50 * scale);
      const graph = nFns <= 5000;
      functions.push({
        threadId,
        name: frames[f]![0],
        file: frames[f]![1],
        line: frames[f]![2],
        column: 3,
        ncalls,
        primitiveCalls: recursive ? Math.max(1, Math.floor(ncalls / 10)) : ncalls,
        tottimeMs,
        cumtimeMs: round3(tottimeMs + rand() * 100 * scale),
        callers: graph && f > 0 ? [{ fn: base + Math.floor(rand() * f), timeMs: round3(rand() * 10) }] : undefined,
        callees: graph && f + 1 < nFns ? [{ fn: base + f + 1, timeMs: round3(rand() * 10) }] : undefined,
      });
    }
  };
  perThread(-1, nThreads);
  if (opts.perThreadFunctions ?? true) for (const th of threads) perThread(th.id, 1);

  const races: Report['races'] = [];
  for (let r = 0; r < (opts.races ?? 3); r++) {
    races.push({
      kind: r % 2 ? 'read-write' : 'write-write',
      buffer: `counts#${r}`,
      byteOffset: r * 4,
      byteLength: 4,
      count: 10 + r,
      accesses: [1, 2].map((w) => ({
        threadId: threads[Math.min(w, nThreads - 1)]!.id,
        op: w === 1 ? ('write' as const) : r % 2 ? ('read' as const) : ('write' as const),
        file: '/app/worker.js',
        line: 40 + r + w,
        column: 5,
        stack: [`increment (/app/worker.js:${40 + r + w}:5)`, 'run (/app/worker.js:12:3)'],
      })),
    });
  }
  const locks: Report['locks'] = [];
  for (let l = 0; l < (opts.locks ?? 2); l++) {
    locks.push({
      id: `L${l}`,
      buffer: 'shared',
      byteOffset: l * 8,
      shape: l % 2 ? 'spinlock' : 'mutex',
      acquisitions: 1000 * (l + 1),
      contended: 120 * (l + 1) + l * 50,
      waitMs: 30 / (l + 1),
      spinMs: l * 2,
      holdMs: 12 + l * 9,
      sites: [
        { threadId: threads[Math.min(1, nThreads - 1)]!.id, role: 'acquire', file: '/app/lock.js', line: 10 + l, count: 500, waitMs: 10 },
        { threadId: threads[Math.min(1, nThreads - 1)]!.id, role: 'release', file: '/app/lock.js', line: 20 + l, count: 500, waitMs: 0 },
      ],
    });
  }
  const deadlocks: Report['deadlocks'] = nThreads > 2 ? [{ kind: 'lock-order', threadIds: [threads[1]!.id, threads[2]!.id], locks: ['L0', 'L1'], message: 'worker 1 takes L0 then L1; worker 2 takes L1 then L0', sites: [{ threadId: threads[1]!.id, file: '/app/lock.js', line: 30, role: 'acquire' }, { threadId: threads[2]!.id, file: '/app/lock.js', line: 44, role: 'acquire' }] }] : [];

  const messages: Report['messages'] = [];
  const wakeups: Report['timeline']['wakeups'] = [];
  for (let m = 0; m < 40 && nThreads > 1; m++) {
    const to = 1 + (m % (nThreads - 1));
    const sentMs = (wallMs * m) / 40;
    messages.push({ fromThreadId: 0, toThreadId: threads[to]!.id, sentMs, receivedMs: sentMs + 0.5 + rand(), bytes: 1024 });
    if (m % 4 === 0 && nThreads > 2) wakeups.push({ fromThread: 1, fromMs: sentMs + 3, toThread: 2, toMs: sentMs + 3.2, lock: 'L0' });
  }

  const buckets = 100;
  const busy = Array.from({ length: buckets }, (_, b) => (b < 10 ? 1 : Math.min(nThreads - 1, 1 + (nThreads - 2) * (0.6 + 0.4 * rand()))));
  const cpuMs = threads.reduce((s, t) => s + (t.cpuMs ?? 0), 0);
  const parallelism = cpuMs / wallMs;
  return {
    schema: 1,
    tool: { name: 'parprof', version: '0.1.0', backend: 'inspector', backendReason: 'synthetic report', nodeVersion: 'v20.20.0', sampleIntervalUs: opts.sampleIntervalUs ?? 1000, callCounts: true, raceDetection: true, raceSampleRate: null },
    program: { file: '/app/main.js', args: ['--size', '512'], cwd: '/app', exitCode: opts.outcome === 'crashed' ? 1 : 0, signal: null, error: opts.outcome === 'crashed' ? 'TypeError: x is not a function' : null, outcome: opts.outcome ?? 'exited' },
    wallMs,
    originMs: 123456.789,
    partial: opts.outcome === 'crashed',
    warnings: opts.outcome === 'crashed' ? ['worker 2 did not flush its last 40 ms'] : [],
    threads,
    functions,
    races,
    locks,
    deadlocks,
    messages,
    metrics: {
      cpuMs,
      parallelism,
      efficiency: parallelism / nThreads,
      threadsUsed: nThreads,
      observedSerialFraction: 0.1,
      amdahlCeiling: 10,
      busyOverTime: { bucketMs: wallMs / buckets, busy },
      serialPhases: [{ startMs: 0, endMs: wallMs / 10 }],
      efficiencyTree: {
        parallelEfficiency: 0.62,
        loadBalance: 0.85,
        communicationEfficiency: 0.73,
        serialisation: 0.8,
        transfer: 0.91,
        gcShare: 0.04,
        profilerShare: 0.02,
        slowestThreadId: threads[nThreads - 1]!.id,
        fastestThreadId: threads[Math.min(1, nThreads - 1)]!.id,
        explanations: ['worker 3 ran 1.3× longer than the mean: its slice was bigger.', 'Threads waited 18% of the time on lock L0 (/app/lock.js:10).'],
      },
      parallelModel: { kind: 'data-parallel', evidence: ['all workers ran multiplyRows over disjoint rows of shared buffer "matrix"'] },
    },
    diagnostics: [],
    timeline: { ...tl, labels, wakeups },
    stacks: { frames, stacks },
  };
}

/** A synthetic scaling experiment with serial fraction f (Amdahl), at 1, 2, 4, 8 workers. */
export function makeScaling(f = 0.2): ScalingResult {
  const t1 = 2000;
  const rows = [1, 2, 4, 8].map((p) => {
    const median = t1 * (f + (1 - f) / p);
    const speedup = t1 / median;
    return {
      workers: p,
      runs: [
        { wallMs: median * 0.98, outDir: null, exitCode: 0 },
        { wallMs: median, outDir: null, exitCode: 0 },
        { wallMs: median * 1.04, outDir: null, exitCode: 0 },
        { wallMs: median * 1.3, outDir: `/tmp/scale/w${p}`, exitCode: 0, profiled: true },
      ],
      medianMs: median,
      minMs: median * 0.98,
      maxMs: median * 1.04,
      spread: 0.06,
      speedup,
      efficiency: speedup / p,
      karpFlatt: p === 1 ? null : (1 / speedup - 1 / p) / (1 - 1 / p),
      efficiencyTree: { parallelEfficiency: speedup / p, loadBalance: 1 - 0.03 * p, communicationEfficiency: speedup / p / (1 - 0.03 * p), serialisation: Math.min(1, speedup / p / (1 - 0.03 * p) / 0.98), transfer: 0.98, gcShare: 0.02, profilerShare: null, slowestThreadId: null, fastestThreadId: null, explanations: [] },
    };
  });
  return {
    schema: 1,
    file: '/app/main.js',
    args: [],
    variable: { mode: 'env', name: 'WORKERS' },
    repeat: 3,
    cores: 2,
    rows,
    serialFraction: { value: f, low: f - 0.03, high: f + 0.03, t1Ms: t1, r2: 0.998 },
    gustafson: rows.map((r) => ({ workers: r.workers, scaledSpeedup: r.workers - f * (r.workers - 1) })),
    warnings: ['8 workers exceed the 2 cores of this machine.'],
    cancelled: false,
    outDir: '/tmp/scale',
  };
}
