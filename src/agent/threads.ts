/**
 * Thread and process lifecycle seen from the parent: `new Worker` (spawn record, spawn data
 * for the child through environment data, eval code transformed), the worker's 'exit' (join
 * record), `worker.terminate()` (ask the child to flush first) and `child_process.fork`
 * (fork record; the child gets the agent through execArgv and env).
 *
 * A flush request reaches a child three ways, whatever it is doing: through the inspector
 * (reach.ts; runs by interrupt in a thread that computes or waits natively), a request word in
 * shared memory its agent polls between the slices of a watched Atomics.wait, and a
 * BroadcastChannel message for an idle event loop. The child acknowledges in shared memory, so
 * terminate() goes on as soon as the data is written.
 */
import childProcess from 'node:child_process';
import Module from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import wt from 'node:worker_threads';
import { AGENT_OPTIONS_ENV } from '../protocol/events';
import { evalWorkerName } from './codeNames';
import type { MessageTracker } from './messages';
import type { FlushWhy, ThreadReach } from './reach';
import { CTL_EXITING, CTL_FLUSHED, CTL_READY, ENV_SPAWN, PCTL_LIVE, FORKED_BY_ENV, type AgentState, type SpawnData } from './state';
import { transformSource } from './transform/index';
import { nativeAtomics as N } from './shared/native';

/** Child control word: a flush request from the parent (REQ_TERMINATE), polled by the child. */
export const CTL_REQUEST = 2;
/** Child control word: the child's heartbeat, bumped by its periodic flush. */
export const CTL_BEAT = 3;
/** Int32 words of a child's control buffer. */
const CTL_WORDS = 5;
/** Process control word: a flush-all request from the main thread (REQ_EXIT or REQ_SIGNAL). */
export const PCTL_REQUEST = 2;
/** Process control word: the note on the ES module hooks thread was written (agent.ts). */
export const PCTL_NOTED = 3;
/** Int32 words of the process control buffer. */
export const PCTL_WORDS = 5;
/** Request word values: the parent's terminate(), the main thread's exit, a signal. */
export const REQ_TERMINATE = 1;
export const REQ_EXIT = 2;
export const REQ_SIGNAL = 3;

/** Longest a terminate() waits for the child's last flush. */
const TERMINATE_FLUSH_WAIT_MS = 300;
/** The wait after a child did not answer in time (stuck in native code the inspector cannot interrupt). */
const SHORT_FLUSH_WAIT_MS = 30;
/** When a stopped child has not exited by then, stop it again. */
const TERMINATE_RETRY_MS = 250;
/** Parent ticks without a child heartbeat before the child is asked for a flush through the inspector. */
const STALE_TICKS = 2;
let terminateWaitMs = TERMINATE_FLUSH_WAIT_MS;

interface ChildInfo {
  tid: number;
  ctl: Int32Array;
  exited: boolean;
  /** terminate() was called: the child is shutting down (perhaps without its agent's last flush). */
  terminating: boolean;
  /** Last heartbeat seen, and parent ticks since it changed. */
  beat: number;
  stale: number;
}

/** What the parent side of the thread hooks offers the rest of the agent. */
export interface ThreadHooks {
  /** From the periodic flush: ask children whose heartbeat stopped (busy, or blocked natively) for a flush. */
  pokeStuckChildren(): void;
}

function entryOf(filename: unknown, isEval: boolean): string | null {
  if (isEval) return '[eval]';
  try {
    if (filename instanceof URL) return filename.protocol === 'file:' ? fileURLToPath(filename) : filename.href;
    if (typeof filename === 'string') return filename.startsWith('file:') ? fileURLToPath(filename) : filename.startsWith('data:') ? filename : resolve(filename);
  } catch {
    // fall through
  }
  return null;
}

/** execArgv for a child that keeps the agent preloaded. */
function withAgent(execArgv: string[], agentFile: string): string[] {
  return execArgv.some((a) => a.includes(agentFile)) ? execArgv : ['--require', agentFile, ...execArgv];
}

/** Wrap Worker (a subclass, so `instanceof Worker` and every Worker API keep working), terminate and fork. */
export function installThreadHooks(st: AgentState, messages: MessageTracker, control: wt.BroadcastChannel, reach: ThreadReach): ThreadHooks {
  const { ctx } = st;
  const children = new WeakMap<wt.Worker, ChildInfo>();
  const live = new Set<ChildInfo>();
  const OrigWorker = wt.Worker;

  const origPost = OrigWorker.prototype.postMessage;
  class Worker extends OrigWorker {
    override postMessage(value: unknown, transfer?: any): void {
      const info = children.get(this);
      return origPost.call(this, info ? messages.tagForWorker(value, info.tid) : value, transfer);
    }

    // An uncaught exception reaches the parent as a message from the child: its 'error'
    // listeners are ordered after the child's accesses (join its clock before they run).
    // Hooked at emit, not as a listener: a listener would stop an unhandled 'error' throwing.
    override emit(event: string | symbol, ...args: any[]): boolean {
      if (event === 'error') {
        const info = children.get(this);
        if (info && !info.exited) {
          try {
            st.ext?.onChildError?.(info.tid);
          } catch (e) {
            st.warn(`shared-memory extension onChildError failed: ${String(e)}`);
          }
        }
      }
      return super.emit(event, ...args);
    }

    constructor(filename: string | URL, options?: wt.WorkerOptions) {
      const isEval = !!options?.eval;
      let opts = options;
      let code = filename;
      if (isEval && typeof filename === 'string') {
        const file = evalWorkerName(filename);
        const out = transformSource({ source: filename, file, url: '[worker eval]', isModule: false, options: ctx.options });
        if (out.warning) st.warn(out.warning);
        if (out.code !== null) code = out.code;
      }
      if (opts && Array.isArray(opts.execArgv)) opts = { ...opts, execArgv: withAgent(opts.execArgv, st.agentFile) };
      const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
      let extData: unknown;
      try {
        extData = st.ext ? st.ext.beforeSpawn(opts?.workerData) : undefined;
      } catch (e) {
        st.warn(`shared-memory extension beforeSpawn failed: ${String(e)}`);
      }
      const spawn: SpawnData = {
        parentTid: ctx.tid,
        entry: entryOf(filename, isEval),
        name: typeof (opts as any)?.name === 'string' ? (opts as any).name : null,
        ctl: ctl.buffer as SharedArrayBuffer,
        ext: extData,
        dynamicImport: isEval && typeof filename === 'string' && filename.includes('import('),
      };
      wt.setEnvironmentData(ENV_SPAWN, spawn as any);
      super(code, opts);
      const childTid = this.threadId;
      const info: ChildInfo = { tid: childTid, ctl, exited: false, terminating: false, beat: 0, stale: 0 };
      children.set(this, info);
      live.add(info);
      ctx.write({ k: 'spawn', us: ctx.now(), childTid, entry: spawn.entry, eval: isEval, site: null, stack: ctx.captureStack(0) });
      try {
        st.ext?.afterSpawn(childTid);
      } catch (e) {
        st.warn(`shared-memory extension afterSpawn failed: ${String(e)}`);
      }
      this.once('exit', (code: number) => {
        info.exited = true;
        live.delete(info);
        ctx.write({ k: 'join', us: ctx.now(), childTid, exitCode: typeof code === 'number' ? code : null });
        // The exit orders the child before the parent only when the program hears of it: an
        // 'exit' listener of its own (this one of ours has been removed), or terminate()'s
        // promise. A parent that just waits long enough is not ordered (its read is a race).
        const observed = this.listenerCount('exit') > 0 || info.terminating;
        try {
          st.ext?.onJoin(childTid, observed);
        } catch (e) {
          st.warn(`shared-memory extension onJoin failed: ${String(e)}`);
        }
      });
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });

  const origTerminate = OrigWorker.prototype.terminate;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  OrigWorker.prototype.terminate = function terminate(this: wt.Worker, ...args: any[]) {
    const info = children.get(this);
    if (info && !info.exited && N.load(info.ctl, CTL_READY) === 1 && N.load(info.ctl, CTL_FLUSHED) === 0) {
      N.store(info.ctl, CTL_REQUEST, REQ_TERMINATE);
      if (!reach.flush([info.tid], 'terminate')) messages.origBroadcastPost.call(control, { flush: info.tid });
      // A child stuck in native code cannot answer; after one such timeout wait less, so
      // terminating a pool of them does not stall the parent for 300 ms each.
      const waited = N.wait(info.ctl, CTL_FLUSHED, 0, terminateWaitMs);
      terminateWaitMs = waited === 'timed-out' ? SHORT_FLUSH_WAIT_MS : TERMINATE_FLUSH_WAIT_MS;
      if (waited !== 'timed-out') {
        // The child answered, perhaps by interrupt: let it leave that code before it is
        // stopped (see finish in agent.ts), and stop it again should the first stop be lost.
        N.wait(pause, 0, 0, 1);
        const again = setTimeout(() => {
          if (!info.exited) (origTerminate as any).call(this);
        }, TERMINATE_RETRY_MS);
        again.unref();
      }
    }
    if (info) info.terminating = true;
    return (origTerminate as any).apply(this, args);
  };
  // A child between the start of its shutdown and its 'exit' event here must not meet NodeWorker.enable.
  reach.childExiting = () => {
    for (const c of live) if (c.terminating || N.load(c.ctl, CTL_EXITING) === 1) return true;
    return false;
  };

  (wt as any).Worker = Worker;

  const origFork = childProcess.fork;
  (childProcess as any).fork = function fork(this: unknown, modulePath: string | URL, args?: any, options?: any) {
    let argv = args;
    let opts = options;
    if (!Array.isArray(argv)) {
      if (argv !== undefined && argv !== null && typeof argv === 'object') opts = argv;
      argv = [];
    }
    opts = { ...(opts ?? {}) };
    opts.env = { ...(opts.env ?? process.env), [AGENT_OPTIONS_ENV]: st.optionsJson, [FORKED_BY_ENV]: String(process.pid) };
    opts.execArgv = withAgent(Array.isArray(opts.execArgv) ? opts.execArgv : process.execArgv, st.agentFile);
    const child = (origFork as any).call(this, modulePath, argv, opts);
    ctx.write({ k: 'fork', us: ctx.now(), childPid: child.pid ?? -1, entry: entryOf(modulePath, false) });
    trackIpc(child, messages);
    return child;
  };
  (Module as any).syncBuiltinESMExports();

  return {
    pokeStuckChildren() {
      for (const c of live) {
        const beat = N.load(c.ctl, CTL_BEAT);
        if (beat !== c.beat) {
          c.beat = beat;
          c.stale = 0;
        } else if (++c.stale >= STALE_TICKS && N.load(c.ctl, CTL_READY) === 1 && N.load(c.ctl, CTL_FLUSHED) === 0) {
          c.stale = 0;
          reach.flush([c.tid], 'periodic');
        }
      }
    },
  };
}

/** MessageRecord.channel of fork/cluster IPC messages (messages.ts numbers its channels 0-3). */
const CH_IPC = 4;

/** Node's own IPC messages (cluster's NODE_CLUSTER, handle passing): never tagged. */
function isNodeInternal(m: unknown): boolean {
  const cmd = (m as { cmd?: unknown } | null)?.cmd;
  return typeof m === 'object' && m !== null && typeof cmd === 'string' && cmd.startsWith('NODE_');
}

/**
 * Record the messages of an IPC channel (a forked child as the parent sees it, or `process` in
 * a child forked by a profiled parent) as the worker messages are: sends tagged, receipts
 * untagged before any listener. Across processes there is no shared memory, so the tag carries
 * no happens-before clock.
 */
export function trackIpc(target: NodeJS.EventEmitter & { send?: (...args: any[]) => boolean }, messages: MessageTracker): void {
  const send = target.send;
  if (typeof send !== 'function') return;
  target.send = function (this: unknown, message: unknown, ...rest: any[]) {
    if (isNodeInternal(message)) return send.call(this, message, ...rest);
    return send.call(this, messages.tag(message, -1, CH_IPC, true), ...rest);
  };
  const emit = target.emit;
  target.emit = function (this: unknown, event: string | symbol, ...args: any[]) {
    if (event === 'message' && args.length > 0) args[0] = messages.untag(args[0], CH_IPC);
    return (emit as any).call(this, event, ...args);
  } as typeof target.emit;
}

/** In a child thread: the pending request in shared memory (polled), or null. */
export function pendingRequest(ctl: Int32Array | null, processCtl: Int32Array): FlushWhy | null {
  const own = ctl ? N.load(ctl, CTL_REQUEST) : 0;
  if (own === REQ_TERMINATE) return 'terminate';
  const all = N.load(processCtl, PCTL_REQUEST);
  return all === REQ_SIGNAL ? 'signal' : all === REQ_EXIT ? 'exit' : null;
}

/** In a child thread: answer flush requests arriving as BroadcastChannel messages (an idle event loop). */
export function listenForFlushRequests(st: AgentState, control: wt.BroadcastChannel, answer: (why: FlushWhy) => void): void {
  control.onmessage = (e: any) => {
    const d = e?.data;
    if (!d) return;
    if (d.flush === st.ctx.tid) answer('terminate');
    else if (d.flushAll) answer(d.flushAll === 'signal' ? 'signal' : 'exit');
  };
  (control as any).unref?.();
}

/** In the main thread on SIGINT/SIGTERM or at exit: ask every other thread of the process for its last flush (≤300 ms). */
export function flushAllThreads(messages: MessageTracker, control: wt.BroadcastChannel, processCtl: Int32Array, reach: ThreadReach, why: 'signal' | 'exit'): void {
  if (N.load(processCtl, PCTL_LIVE) <= 1) return;
  N.store(processCtl, PCTL_REQUEST, why === 'signal' ? REQ_SIGNAL : REQ_EXIT);
  reach.flush(null, why);
  // Also for idle threads the inspector cannot reach (it is off, or a worker is still starting).
  messages.origBroadcastPost.call(control, { flushAll: why });
  const deadline = Date.now() + TERMINATE_FLUSH_WAIT_MS;
  for (;;) {
    // Each thread's last flush takes it off the live count.
    const alive = N.load(processCtl, PCTL_LIVE);
    const left = deadline - Date.now();
    if (alive <= 1 || left <= 0) return;
    N.wait(processCtl, PCTL_LIVE, alive, left);
  }
}
