/**
 * A run directory loaded into memory, per thread, as the analyses consume it.
 * load.ts builds it; races.ts, locks.ts, deadlocks.ts, timeline.ts, functions.ts read it.
 */
import type {
  AtomRecord,
  BufferRecord,
  CountsRecord,
  DeadlockRecord,
  ExitRecord,
  ForkRecord,
  GcRecord,
  JoinRecord,
  ModuleRecord,
  ProfileRecord,
  RunManifest,
  RunOutcome,
  SpawnRecord,
  ThreadRecord,
} from '../protocol/events';
import type { MessageLog } from './messages';
import type { SegmentStore } from './segments';

/** Everything one thread recorded. */
export interface LoadedThread {
  /** Report thread id (threadId, or k*10000+threadId in the k-th forked process). */
  id: number;
  /** "pid:tid" — unique across processes. */
  key: string;
  pid: number;
  tid: number;
  info: ThreadRecord;
  modules: Map<number, ModuleRecord>;
  /** Last counts record per fid. */
  counts: Map<number, CountsRecord>;
  profiles: ProfileRecord[];
  gc: GcRecord[];
  spawns: SpawnRecord[];
  forks: ForkRecord[];
  joins: JoinRecord[];
  /** Sends and receipts, columnar. */
  msgs: MessageLog;
  atoms: AtomRecord[];
  /** Buffer index (BufferRecord.idx) → record. */
  bufs: Map<number, BufferRecord>;
  /** Site id → stack (innermost first). */
  stacks: Map<number, string[]>;
  /** Vector-clock slot of this thread, or null when race detection was off. */
  tidx: number | null;
  /** Race-detection segments, columnar. */
  segs: SegmentStore;
  deadlocks: DeadlockRecord[];
  exit: ExitRecord | null;
  warnings: string[];
  /** False when the file ended without an exit record (killed, terminated while busy). */
  complete: boolean;
}

/** A whole run directory. */
export interface LoadedRun {
  dir: string;
  manifest: RunManifest | null;
  outcome: RunOutcome | null;
  threads: LoadedThread[];
  /** Earliest time stamp of the run (µs); report times are (us - originUs) / 1000. */
  originUs: number;
}

/** A resolved source position (1-based). */
export interface ResolvedSite {
  file: string;
  line: number;
  column: number;
}
