/**
 * Thread and process lifecycle seen from the parent: `new Worker` (spawn record, spawn data
 * for the child through environment data, eval code transformed), the worker's 'exit' (join
 * record), `worker.terminate()` (ask the child to flush first) and `child_process.fork`
 * (fork record; the child gets the agent through execArgv and env).
 */
import childProcess from 'node:child_process';
import Module from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import wt from 'node:worker_threads';
import { AGENT_OPTIONS_ENV } from '../protocol/events';
import type { MessageTracker } from './messages';
import { CTL_FLUSHED, CTL_READY, ENV_SPAWN, PCTL_ACKS, PCTL_LIVE, FORKED_BY_ENV, type AgentState, type SpawnData } from './state';
import { transformSource } from './transform/index';
import { nativeAtomics as N } from './shared/native';

/** Longest a terminate() waits for the child's last flush. */
const TERMINATE_FLUSH_WAIT_MS = 300;
/** The wait after a child did not answer in time (it was busy). */
const SHORT_FLUSH_WAIT_MS = 30;
let terminateWaitMs = TERMINATE_FLUSH_WAIT_MS;

interface ChildInfo {
  tid: number;
  ctl: Int32Array;
  exited: boolean;
}

let evalCount = 0;

function entryOf(filename: unknown, isEval: boolean): string | null {
  if (isEval) return '[eval]';
  try {
    if (filename instanceof URL) return filename.protocol === 'file:' ? fileURLToPath(filename) : filename.href;
    if (typeof filename === 'string') return filename.startsWith('file:') ? fileURLToPath(filename) : resolve(filename);
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
export function installThreadHooks(st: AgentState, messages: MessageTracker, control: wt.BroadcastChannel): void {
  const { ctx } = st;
  const children = new WeakMap<wt.Worker, ChildInfo>();
  const OrigWorker = wt.Worker;

  const origPost = OrigWorker.prototype.postMessage;
  class Worker extends OrigWorker {
    override postMessage(value: unknown, transfer?: any): void {
      const info = children.get(this);
      return origPost.call(this, info ? messages.tagForWorker(value, info.tid) : value, transfer);
    }

    constructor(filename: string | URL, options?: wt.WorkerOptions) {
      const isEval = !!options?.eval;
      let opts = options;
      let code = filename;
      if (isEval && typeof filename === 'string') {
        const file = `[worker eval ${++evalCount}]`;
        const out = transformSource({ source: filename, file, url: '[worker eval]', isModule: false, options: ctx.options });
        if (out.warning) st.warn(out.warning);
        if (out.code !== null) code = out.code;
      }
      if (opts && Array.isArray(opts.execArgv)) opts = { ...opts, execArgv: withAgent(opts.execArgv, st.agentFile) };
      const ctl = new Int32Array(new SharedArrayBuffer(8));
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
      const info: ChildInfo = { tid: childTid, ctl, exited: false };
      children.set(this, info);
      ctx.write({ k: 'spawn', us: ctx.now(), childTid, entry: spawn.entry, eval: isEval, site: null, stack: ctx.captureStack(0) });
      try {
        st.ext?.afterSpawn(childTid);
      } catch (e) {
        st.warn(`shared-memory extension afterSpawn failed: ${String(e)}`);
      }
      this.once('exit', (code: number) => {
        info.exited = true;
        ctx.write({ k: 'join', us: ctx.now(), childTid, exitCode: typeof code === 'number' ? code : null });
        try {
          st.ext?.onJoin(childTid);
        } catch (e) {
          st.warn(`shared-memory extension onJoin failed: ${String(e)}`);
        }
      });
    }
  }
  Object.defineProperty(Worker, 'name', { value: 'Worker' });

  const origTerminate = OrigWorker.prototype.terminate;
  OrigWorker.prototype.terminate = function terminate(this: wt.Worker, ...args: any[]) {
    const info = children.get(this);
    if (info && !info.exited && N.load(info.ctl, CTL_READY) === 1 && N.load(info.ctl, CTL_FLUSHED) === 0) {
      messages.origBroadcastPost.call(control, { flush: info.tid });
      // A busy child cannot answer; after one such timeout wait less, so terminating a pool of
      // busy workers does not stall the parent for 300 ms each.
      const waited = N.wait(info.ctl, CTL_FLUSHED, 0, terminateWaitMs);
      terminateWaitMs = waited === 'timed-out' ? SHORT_FLUSH_WAIT_MS : TERMINATE_FLUSH_WAIT_MS;
    }
    return (origTerminate as any).apply(this, args);
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
    return child;
  };
  (Module as any).syncBuiltinESMExports();
}

/** In a child thread: answer flush requests from the parent (terminate) and the main thread (signal). */
export function listenForFlushRequests(st: AgentState, spawn: SpawnData, control: wt.BroadcastChannel, processCtl: Int32Array | null): void {
  const ctl = new Int32Array(spawn.ctl);
  control.onmessage = (e: any) => {
    const d = e?.data;
    if (!d) return;
    if (d.flush === st.ctx.tid) {
      st.finish('terminate', null);
      N.store(ctl, CTL_FLUSHED, 1);
      N.notify(ctl, CTL_FLUSHED);
    } else if (d.flushAll && processCtl && !st.finished) {
      st.finish(d.flushAll === 'signal' ? 'signal' : 'terminate', null);
      N.add(processCtl, PCTL_ACKS, 1);
      N.notify(processCtl, PCTL_ACKS);
    }
  };
  (control as any).unref?.();
  N.store(ctl, CTL_READY, 1);
}

/** In the main thread on SIGINT/SIGTERM or at exit: ask every other thread of the process for its last flush (≤300 ms). */
export function flushAllThreads(messages: MessageTracker, control: wt.BroadcastChannel, processCtl: Int32Array, why: 'signal' | 'exit'): void {
  const others = N.load(processCtl, PCTL_LIVE) - 1;
  if (others <= 0) return;
  N.store(processCtl, PCTL_ACKS, 0);
  messages.origBroadcastPost.call(control, { flushAll: why });
  const deadline = Date.now() + TERMINATE_FLUSH_WAIT_MS;
  for (;;) {
    const acks = N.load(processCtl, PCTL_ACKS);
    const left = deadline - Date.now();
    if (acks >= others || left <= 0) return;
    N.wait(processCtl, PCTL_ACKS, acks, left);
  }
}
