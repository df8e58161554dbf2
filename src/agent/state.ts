/** What the parts of the base runtime share in one thread. */
import type { ExitRecord } from '../protocol/events';
import type { AgentContext, AgentExtension } from './extension';

/** Environment-data keys (worker_threads.setEnvironmentData) the agent uses. */
export const ENV_OPTIONS = '__parprof_options';
export const ENV_SPAWN = '__parprof_spawn';
export const ENV_HOOKS = '__parprof_hooks';
export const ENV_CTL = '__parprof_ctl';
/** BroadcastChannel name for flush requests between threads of one process. */
export const CTL_CHANNEL = '__parprof_ctl';
/** Env var naming the profiled parent process of a forked child. */
export const FORKED_BY_ENV = 'PARPROF_FORKED_BY';

/** What a parent hands to each child thread through environment data. */
export interface SpawnData {
  parentTid: number;
  entry: string | null;
  name: string | null;
  /** Int32Array slots: [0] child agent ready, [1] child flushed on request. */
  ctl: SharedArrayBuffer;
  ext: unknown;
  /** Eval-worker code that contains `import(` (the child registers the ESM hooks at once). */
  dynamicImport: boolean;
}

/** Slots of a child's control array. */
export const CTL_READY = 0;
export const CTL_FLUSHED = 1;
/** Set by a child as its last flush begins: from then on it is shutting down (see PCTL_ATTACHING). */
export const CTL_EXITING = 4;

/** Slots of the process-wide control array (live agents, acks of a flush-all request). */
export const PCTL_LIVE = 0;
export const PCTL_ACKS = 1;
/**
 * Set by the main thread while it attaches the inspector to its workers (reach.ts). Node crashes
 * the process when NodeWorker.enable meets a worker that is shutting down, so the main thread
 * attaches only when no child has set CTL_EXITING, and an exiting child waits for this word to
 * clear: each side sets its own word before reading the other's, so one of them sees the other.
 */
export const PCTL_ATTACHING = 4;

/** The base runtime of one thread. */
export interface AgentState {
  ctx: AgentContext;
  ext: AgentExtension | null;
  /** Absolute path of out/agent.js and its folder. */
  agentFile: string;
  agentDir: string;
  /** AgentOptions as JSON (to pass on to forked processes). */
  optionsJson: string;
  /** Flush everything (counts, batches, extension) to the file. */
  flushAll(final: boolean): void;
  /** The thread's last flush: stop sampling, write the profile, counts and the exit record. */
  finish(reason: ExitRecord['reason'], code: number | null, error?: string): void;
  readonly finished: boolean;
  warn(msg: string): void;
}
