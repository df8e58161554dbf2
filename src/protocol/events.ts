/**
 * The run directory: the contract between the agent (which records) and the core (which
 * analyses). The agent never analyses; the core never runs user code.
 *
 * Layout of a run directory:
 *   run.json                       RunManifest, written by the runner before the program starts
 *   outcome.json                   RunOutcome, written by the runner after the program ended
 *   t-<pid>-<tid>.jsonl            one per thread: AgentRecord per line, append-only
 *   t-<pid>-<tid>.<n>.cpuprofile   CPU profile chunks of that thread (V8 format)
 *
 * Clock: every time stamp is microseconds on the monotonic clock
 * (`Number(process.hrtime.bigint()) / 1000`), the clock V8 uses for `.cpuprofile`
 * startTime/endTime, so all threads and processes share one time axis.
 */

/** Run-directory file names. */
export const RUN_MANIFEST = 'run.json';
export const RUN_OUTCOME = 'outcome.json';
/** Environment variable carrying AgentOptions (JSON) into the profiled process. */
export const AGENT_OPTIONS_ENV = 'PARPROF_AGENT_OPTIONS';

/** What the agent is told to do; passed as JSON in PARPROF_AGENT_OPTIONS. */
export interface AgentOptions {
  runDir: string;
  sampleIntervalUs: number;
  /** Exact call counters injected by the source transform. */
  counts: boolean;
  /** Shared-memory race detection (source transform of typed-array accesses). */
  races: boolean;
  /** Pacer-style sampling rate for race detection in (0, 1]; null = every segment. */
  raceSample: number | null;
  /** Instrument node_modules too. */
  instrumentDeps: boolean;
  /** Record Atomics operations for lock analysis. */
  locks: boolean;
  /** Watchdog: all live threads blocked this long = deadlock (ms); 0 = off. */
  deadlockTimeoutMs: number;
  /** Periodic flush interval (ms). */
  flushIntervalMs: number;
  /** 'auto' tries v8-profiler-next first, then node:inspector. */
  backend: 'auto' | 'inspector' | 'v8-profiler-next';
  /** Absolute path of v8-profiler-next to try (resolved by the runner), or null. */
  v8ProfilerPath: string | null;
  /** Cap on race shadow memory per thread (MiB); past it detection degrades to sampling. */
  shadowCapMiB: number;
  /** Length of a CPU profile chunk (ms) before the agent starts the next file; default 10000. */
  profileChunkMs?: number;
}

/** Written by the runner before the program starts. */
export interface RunManifest {
  file: string;
  args: string[];
  cwd: string;
  node: string;
  startedUs: number;
  options: AgentOptions;
  toolVersion: string;
  /** Logical CPUs the program could run on (os.availableParallelism()); absent in older runs. */
  cores?: number;
}

/** Written by the runner when the program has ended. */
export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  /** 'exited' | 'crashed' | 'timeout' | 'cancelled' | 'deadlock' | 'failed-to-start'. */
  outcome: string;
  endedUs: number;
  /** Last lines of the program's stderr (for a one-sentence error). */
  stderrTail: string;
}

/** Atomics operation codes in AtomRecord.op. */
export const enum AtomOp {
  Load = 0,
  Store = 1,
  Add = 2,
  Sub = 3,
  And = 4,
  Or = 5,
  Xor = 6,
  Exchange = 7,
  CasOk = 8,
  CasFail = 9,
  Wait = 10,
  Notify = 11,
  WaitAsync = 12,
  /**
   * Not an operation: the next `res` operations of this thread each equal the operation `val`
   * places before it in the thread's sequence (a run the agent counted instead of logging);
   * us = end of the last logged operation before the run, dur = until the run was closed.
   */
  Repeat = 13,
}

/** Wait results in AtomRecord.res for Wait / WaitAsync. */
export const enum WaitResult {
  Ok = 0,
  NotEqual = 1,
  TimedOut = 2,
}

/** Access kinds in SegmentRecord.kind. */
export const enum AccessKind {
  Read = 0,
  Write = 1,
  AtomicRead = 2,
  AtomicWrite = 3,
}

/** One line of a thread's event file. */
export type AgentRecord =
  | ThreadRecord
  | ModuleRecord
  | CountsRecord
  | ProfileRecord
  | GcRecord
  | SpawnRecord
  | ForkRecord
  | JoinRecord
  | MessageRecord
  | AtomRecord
  | BufferRecord
  | StackRecord
  | ThreadIndexRecord
  | SegmentRecord
  | SegmentBatchRecord
  | DeadlockRecord
  | ExitRecord
  | WarnRecord;

/** First record of every thread file. */
export interface ThreadRecord {
  k: 'thread';
  pid: number;
  /** Parent process pid when this process was forked by a profiled process, else null. */
  ppid: number | null;
  tid: number;
  parentTid: number | null;
  kind: 'main' | 'worker';
  name: string;
  /** Entry file (absolute path or file URL) or "[eval]" for code-string workers. */
  entry: string | null;
  startUs: number;
  nodeVersion: string;
  backend: 'v8-profiler-next' | 'inspector' | 'none';
  backendReason: string;
}

/**
 * A module the agent transformed. Function i of the module has original position
 * funcs[4i..4i+3] = [line, column, generatedLine, generatedColumn] (1-based; generated
 * position = where V8 reports the function, i.e. its parameter list) and name names[i].
 * Site j has original position sites[3j..3j+2] = [line, column, siteKind].
 * A site id used in other records = fid * 2^20 + j.
 */
export interface ModuleRecord {
  k: 'module';
  fid: number;
  /** Absolute path (or "[worker eval <hash of the code>]"); url is what V8 reports in callFrame.url. */
  file: string;
  url: string;
  funcs: number[];
  names: string[];
  sites: number[];
}

/** Site kinds in ModuleRecord.sites. */
export const enum SiteKind {
  Read = 0,
  Write = 1,
  ReadWrite = 2,
  Atomic = 3,
  Alloc = 4,
  Spawn = 5,
  Other = 6,
}

/** Multiplier turning (fid, local site index) into a site id. */
export const SITE_FID_SCALE = 1 << 20;

/**
 * The file name the agent gives code it compiled from a string (`new Function`, vm without a
 * filename): "[function 1a2b3c4d]", "[vm 1a2b3c4d]". Such code runs inside a wrapper of the
 * agent's (transform/index.ts expression mode), so its script's top level is the profiler's.
 */
export const STRING_CODE_NAME = /^\[(vm|function) [0-9a-f]{8}\]$/;

/** Cumulative exact call counts of one module's functions; the last record wins. */
export interface CountsRecord {
  k: 'counts';
  fid: number;
  ncalls: number[];
  /** Primitive (non-recursive) calls; equals ncalls for functions never re-entered. */
  prim: number[];
}

/** A CPU profile chunk was written next to the event file. */
export interface ProfileRecord {
  k: 'profile';
  file: string;
  startUs: number;
  endUs: number;
}

/** Garbage collections (columnar): start and duration in µs, kind = perf_hooks gc kind. */
export interface GcRecord {
  k: 'gc';
  start: number[];
  dur: number[];
  kind: number[];
}

/** This thread created a worker. */
export interface SpawnRecord {
  k: 'spawn';
  us: number;
  childTid: number;
  entry: string | null;
  eval: boolean;
  /** Site id of the `new Worker` call, or null when not instrumented. */
  site: number | null;
  /** Stack at creation, innermost first, "name (file:line:col)". */
  stack: string[];
}

/** This thread forked a child process (child_process.fork / cluster). */
export interface ForkRecord {
  k: 'fork';
  us: number;
  childPid: number;
  entry: string | null;
}

/** This thread observed a worker's 'exit' (join edge). */
export interface JoinRecord {
  k: 'join';
  us: number;
  childTid: number;
  exitCode: number | null;
}

/**
 * Messages sent ('s') or received ('r') by this thread (columnar). A message is named by its
 * sender's pid, tid and `seq` (counting up from 0 in each sender thread), so the core pairs sends
 * with receipts exactly: a send's sender is this thread; a receipt's is `peer` in `pid` (or this
 * thread's process when `pid` is absent). peer on a send = the receiving thread's tid when known,
 * else -1. bytes = estimated payload size or -1 (sends only).
 * channel: 0 worker/parentPort, 1 MessagePort, 2 BroadcastChannel, 3 receiveMessageOnPort, 4 IPC.
 * Older agents wrote `id` ("pid.tid.seq") instead of `seq` and `pid`, and bytes on receipts too.
 */
export interface MessageRecord {
  k: 'msg';
  dir: 's' | 'r';
  us: number[];
  seq?: number[];
  id?: string[];
  peer: number[];
  bytes?: number[];
  channel: number[];
  /** Receipts only, present when one of the batch came from another process (IPC): the sender's pid of each. */
  pid?: number[];
}

/**
 * Atomics operations (columnar). buf = this thread's buffer index (BufferRecord.idx),
 * off = byte offset, val = value written (store/exchange/cas replacement/add operand; wait:
 * the expected value), res = returned value (old value; wait: WaitResult; notify: woken
 * count), dur = µs spent (wait), site = site id or 0 when the call was not instrumented.
 */
export interface AtomRecord {
  k: 'atom';
  us: number[];
  op: number[];
  buf: number[];
  off: number[];
  val: number[];
  res: number[];
  dur: number[];
  site: number[];
  /** Optional count per entry (absent = 1 each): an entry standing for n identical operations. */
  n?: number[];
}

/**
 * A shared buffer this thread knows. id is the run-wide name given where the buffer was
 * first seen (allocated, or first sent by uninstrumented code): "pid.tid.n"; every thread
 * that receives the buffer through a message, workerData or environment data maps it to
 * the same id. idx is this thread's short index used in other records.
 */
export interface BufferRecord {
  k: 'buf';
  idx: number;
  id: string;
  byteLength: number;
  /** Allocation site id in the allocating thread, or null. */
  site: number | null;
  /** True in the thread that allocated (or first named) it. */
  origin: boolean;
}

/** Stack of a site's first access in this thread (innermost first). */
export interface StackRecord {
  k: 'stack';
  site: number;
  frames: string[];
}

/** Dense thread index (vector clock slot) of a thread in this process. */
export interface ThreadIndexRecord {
  k: 'tidx';
  idx: number;
  tid: number;
}

/**
 * A synchronisation-free segment of this thread's execution with the byte ranges it touched.
 * vc = the thread's vector clock during the segment, flat [idx, clock, idx, clock, …] of the
 * non-zero entries; self = this thread's index, so vc[self] is the segment's epoch.
 * Access runs (columnar): buf (BufferRecord.idx), off, len (bytes), kind (AccessKind),
 * site (site id). Adjacent accesses of one site and kind are coalesced into one run.
 * sampled = false when race sampling skipped part of this segment.
 */
export interface SegmentRecord {
  k: 'seg';
  self: number;
  vc: number[];
  buf: number[];
  off: number[];
  len: number[];
  kind: number[];
  site: number[];
  sampled?: boolean;
}

/**
 * Many segments of one thread in one record (what the agent writes: one JSON record per
 * segment cost more than the program on lock-heavy code). Segment j has vcN[j] clock pairs
 * and n[j] access runs, taken in order from the flat vc and run columns; unsampled lists the
 * j whose SegmentRecord.sampled would be false.
 */
export interface SegmentBatchRecord {
  k: 'segs';
  self: number;
  vcN: number[];
  vc: number[];
  n: number[];
  buf: number[];
  off: number[];
  len: number[];
  kind: number[];
  site: number[];
  unsampled?: number[];
}

/** The segments of a batch, as single records. */
export function unbatchSegments(b: SegmentBatchRecord): SegmentRecord[] {
  const out: SegmentRecord[] = [];
  let v = 0;
  let a = 0;
  const unsampled = new Set(b.unsampled ?? []);
  for (let j = 0; j < b.n.length; j++) {
    const vn = 2 * b.vcN[j]!;
    const an = b.n[j]!;
    const rec: SegmentRecord = {
      k: 'seg',
      self: b.self,
      vc: b.vc.slice(v, v + vn),
      buf: b.buf.slice(a, a + an),
      off: b.off.slice(a, a + an),
      len: b.len.slice(a, a + an),
      kind: b.kind.slice(a, a + an),
      site: b.site.slice(a, a + an),
    };
    if (unsampled.has(j)) rec.sampled = false;
    out.push(rec);
    v += vn;
    a += an;
  }
  return out;
}

/** The watchdog found every live thread blocked; written by the thread that noticed. */
export interface DeadlockRecord {
  k: 'deadlock';
  us: number;
  threads: {
    tid: number;
    /** What the thread waits on: buffer id, byte offset, site id, since when (µs). */
    waiting: { buf: string; off: number; site: number; sinceUs: number } | null;
    /** Locks the thread holds (acquired, not yet released), with the acquiring site. */
    holds: { buf: string; off: number; site: number }[];
    idle: boolean;
  }[];
}

/** The thread ended (or flushed for the last time before being killed). */
export interface ExitRecord {
  k: 'exit';
  us: number;
  code: number | null;
  reason: 'exit' | 'process.exit' | 'uncaught' | 'signal' | 'terminate' | 'deadlock';
  error?: string;
}

/** Something the user should know (summarised data, degraded detection…). */
export interface WarnRecord {
  k: 'warn';
  msg: string;
}
