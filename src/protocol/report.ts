/**
 * report.json, schema 1 — the contract between the core and every consumer (CLI, extension,
 * webview, users' CI scripts). All times are milliseconds, lines and columns are 1-based.
 * Unknown values are `null`, never a made-up number. See ../shared/ARCHITECTURE.md §4.
 * Fields beyond the architecture's list (timeline, stacks, efficiency…) are additive.
 */

/** Current schema version of report.json. */
export const REPORT_SCHEMA = 1;

/** The whole analysed run. */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  tool: ToolInfo;
  program: ProgramInfo;
  /** Wall time of the run, first thread start to last thread end. */
  wallMs: number;
  /** Absolute start of the run on the monotonic clock, ms; every other time is relative to it. */
  originMs: number;
  /** True when some thread did not flush all its data (crash, kill, terminate, timeout). */
  partial: boolean;
  /** Human sentences about what was summarised, dropped or degraded. */
  warnings: string[];
  threads: ThreadInfo[];
  functions: FunctionRow[];
  races: RaceReport[];
  locks: LockReport[];
  deadlocks: DeadlockReport[];
  messages: MessageRecord[];
  metrics: RunMetrics;
  diagnostics: Diagnostic[];
  /** Columnar per-thread state intervals for the timeline. */
  timeline: TimelineData;
  /** Interned call stacks referenced by timeline slices. */
  stacks: StackTable;
}

/** Which tool and sampling backend produced the report. */
export interface ToolInfo {
  name: 'parprof';
  version: string;
  /** 'v8-profiler-next' | 'inspector' | 'none'. */
  backend: string;
  /** Why that backend ran (e.g. "v8-profiler-next binary not built for Node 20"). */
  backendReason: string;
  /** Node version of the profiled program. */
  nodeVersion: string | null;
  sampleIntervalUs: number;
  /** Whether exact call counts, race detection and lock tracking were on. */
  callCounts: boolean;
  raceDetection: boolean;
  raceSampleRate: number | null;
}

/** The profiled program and how it ended. */
export interface ProgramInfo {
  file: string;
  args: string[];
  cwd: string;
  exitCode: number | null;
  signal: string | null;
  /** One sentence when the program failed to start or crashed; null otherwise. */
  error: string | null;
  /** 'exited' | 'crashed' | 'timeout' | 'cancelled' | 'deadlock' | 'failed-to-start'. */
  outcome: string;
}

/** One thread of one process (main thread, worker, or a forked process's main thread). */
export interface ThreadInfo {
  /** Node's threadId (0 = main thread) in the profiled process. Threads of the k-th forked
   *  child process (k = 1, 2, …) get k * 10000 + threadId so ids stay unique; see `key`. */
  id: number;
  /** Unique key across processes: "pid:threadId". */
  key: string;
  pid: number;
  name: string;
  kind: 'main' | 'worker' | 'process';
  entry: string | null;
  parentId: number | null;
  startMs: number;
  endMs: number;
  exitCode: number | null;
  cpuMs: number | null;
  blockedMs: number | null;
  idleMs: number | null;
  gcMs: number | null;
  /** False when this thread's data stopped before its end (killed, terminated busy). */
  complete: boolean;
}

/** One cProfile-style row: per thread, or merged over all threads when threadId is -1. */
export interface FunctionRow {
  threadId: number;
  name: string;
  file: string;
  line: number;
  column: number;
  /** Exact call count when counters ran, else null. */
  ncalls: number | null;
  primitiveCalls: number | null;
  tottimeMs: number;
  cumtimeMs: number;
  /** Index into `functions` of callers / callees (same threadId), with time along the edge. */
  callers?: CallEdge[];
  callees?: CallEdge[];
}

/** An edge of the call graph between two function rows. */
export interface CallEdge {
  fn: number;
  timeMs: number;
}

/** A data race between two source sites on a shared buffer. */
export interface RaceReport {
  kind: 'write-write' | 'read-write';
  buffer: string;
  byteOffset: number;
  byteLength: number;
  /** How many racing access pairs were folded into this report. */
  count: number;
  bufferInfo?: { allocatedAt: SourceSite | null; byteLength: number | null; elementType: string | null };
  accesses: RaceAccess[];
}

/** One side of a race. */
export interface RaceAccess {
  threadId: number;
  op: 'read' | 'write' | 'atomic-read' | 'atomic-write';
  file: string;
  line: number;
  column: number;
  stack: string[];
  /** Where the accessing thread was created (null for the main thread). */
  threadCreatedAt?: SourceSite | null;
}

/** A file position. */
export interface SourceSite {
  file: string;
  line: number;
  column: number;
}

/** A lock recognised from Atomics usage on one (buffer, byteOffset). */
export interface LockReport {
  id: string;
  buffer: string;
  byteOffset: number;
  /** 'mutex' | 'rwlock' | 'spinlock' | 'ticket' | 'semaphore' | 'web lock' | 'unknown'. */
  shape: string;
  acquisitions: number;
  contended: number;
  waitMs: number;
  spinMs: number;
  holdMs: number;
  sites: LockSite[];
}

/** A source line that acquires, releases or waits on a lock. */
export interface LockSite {
  threadId: number;
  role: 'acquire' | 'release' | 'wait';
  file: string;
  line: number;
  count: number;
  waitMs: number;
}

/** A deadlock that happened (cycle) or could happen (lock-order inversion). */
export interface DeadlockReport {
  kind: 'cycle' | 'lock-order';
  threadIds: number[];
  locks: string[];
  message: string;
  sites: { threadId: number; file: string; line: number; role?: string }[];
}

/** One postMessage hand-off between threads. */
export interface MessageRecord {
  fromThreadId: number;
  toThreadId: number;
  sentMs: number;
  receivedMs: number | null;
  bytes: number | null;
}

/** The measures of parallel computing for this run. */
export interface RunMetrics {
  cpuMs: number;
  /** Average number of busy threads over wall time. */
  parallelism: number;
  /** parallelism / processors used: min(threads used, cores) when the core count is known. */
  efficiency: number;
  threadsUsed: number;
  /** Logical CPUs of the machine the run was on (absent when unknown). */
  cores?: number;
  /** Share of wall time with at most one busy thread. */
  observedSerialFraction: number | null;
  /** 1 / observedSerialFraction, the Amdahl ceiling implied by this run. */
  amdahlCeiling: number | null;
  /** Busy-thread count over time: bucket width and counts (fractional averages). */
  busyOverTime: { bucketMs: number; busy: number[] };
  /** Intervals (ms) where only one thread was busy. */
  serialPhases: { startMs: number; endMs: number }[];
  efficiencyTree?: EfficiencyTree | null;
  parallelModel?: ParallelModel | null;
  [extra: string]: unknown;
}

/** POP-style multiplicative efficiency factors. */
export interface EfficiencyTree {
  parallelEfficiency: number;
  loadBalance: number;
  communicationEfficiency: number;
  serialisation: number;
  transfer: number;
  gcShare: number;
  profilerShare: number | null;
  slowestThreadId: number | null;
  fastestThreadId: number | null;
  explanations: string[];
  /** The threads the factors compare (workers; the main thread too when it computes beside them). */
  threadIds?: number[];
  /** Share of wall time with at most one busy thread, and the Amdahl ceiling 1/f it implies. */
  observedSerialFraction?: number | null;
  amdahlCeiling?: number | null;
  /** Every factor in tree order (parent before children) with its one-sentence explanation. */
  factors?: EfficiencyFactor[];
}

/** One node of the efficiency tree: a value in [0, 1] (a share for gc/profiler) and why. */
export interface EfficiencyFactor {
  key: 'parallelEfficiency' | 'loadBalance' | 'communicationEfficiency' | 'serialisation' | 'transfer' | 'serialFraction' | 'gc' | 'profiler';
  label: string;
  value: number | null;
  /** Key of the factor this one multiplies into, or null for the root and the side notes. */
  parent: string | null;
  sentence: string;
}

/** Data parallel / task parallel / pipeline, with the evidence. */
export interface ParallelModel {
  kind: 'data-parallel' | 'task-parallel' | 'pipeline' | 'serial' | 'mixed';
  evidence: string[];
}

/** A finding shown in the editor / Problems panel. */
export interface Diagnostic {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  related?: { file: string; line: number; column: number; message: string }[];
}

/** Thread state codes used in timeline slices. */
export const enum ThreadState {
  Running = 0,
  Idle = 1,
  Blocked = 2,
  GC = 3,
}

/**
 * Columnar timeline: slice i runs from start[i] to end[i] (ms since originMs) on lane
 * thread[i] (index into Report.threads) in state[i]; stack[i] indexes `stacks` or -1;
 * label[i] indexes `labels` or -1 (e.g. the lock a blocked slice waits on).
 */
export interface TimelineData {
  thread: number[];
  start: number[];
  end: number[];
  state: number[];
  stack: number[];
  label: number[];
  labels: string[];
  /** Wake-up arrows: notify in thread a at time ta woke the wait in thread b at tb. */
  wakeups: { fromThread: number; fromMs: number; toThread: number; toMs: number; lock: string | null }[];
}

/** Interned stacks: frames[i] = [name, file, line]; stacks[i] = frame indices, leaf last. */
export interface StackTable {
  frames: [string, string, number][];
  stacks: number[][];
}
