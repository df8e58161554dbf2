/**
 * The base runtime of one thread: event file, CPU sampling, module hooks, call counters,
 * thread/message tracking, and every path to a last flush (exit, process.exit, uncaught
 * exception, SIGINT/SIGTERM, terminate(), periodically).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as wt from 'node:worker_threads';
import { SITE_FID_SCALE, type AgentOptions, type ExitRecord } from '../protocol/events';
import { installCjsHook } from './cjsHook';
import { installDynamicCodeHooks } from './dynamicCode';
import { installColumnMaps, originalFrame } from './transform/columns';
import { installOriginalToString } from './transform/toString';
import type { AgentContext, AgentExtension } from './extension';
import { GcTracker } from './gc';
import { MessageTracker } from './messages';
import { ModuleRegistry } from './runtime';
import { startSampler } from './sampler';
import { createSharedExtension } from './shared/index';
import { CTL_EXITING, CTL_FLUSHED, CTL_READY, ENV_CTL, ENV_HOOKS, ENV_OPTIONS, FORKED_BY_ENV, PCTL_ATTACHING, PCTL_LIVE, type AgentState, type SpawnData, ENV_SPAWN } from './state';
import { ThreadReach, type FlushWhy } from './reach';
import { CTL_BEAT, flushAllThreads, installThreadHooks, listenForFlushRequests, pendingRequest, PCTL_NOTED, PCTL_WORDS, trackIpc } from './threads';
import { errorText, installExitPaths } from './lifecycle';
import { EventWriter, nowUs } from './writer';
import { nativeAtomics as N } from './shared/native';

/** True when `entry` will load as an ES module (.mjs/.mts, or .js/.ts under "type": "module"). */
function isEsmEntry(entry: string | null): boolean {
  if (!entry) return false;
  if (entry.startsWith('data:')) return true; // a worker from a data: URL is an ES module
  if (!isAbsolute(entry)) entry = resolve(entry);
  if (/\.m[jt]s$/.test(entry)) return true;
  if (/\.c[jt]s$/.test(entry)) return false;
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type === 'module';
    } catch {
      // no (readable) package.json here: look further up
    }
    if (dirname(dir) === dir) return false;
  }
}

/** Default period of CPU profile chunks (ms). */
const PROFILE_CHUNK_MS = 10_000;
/** Longest an exiting worker waits for the main thread to finish attaching the inspector (microseconds, normally). */
const ATTACH_WAIT_MS = 100;


/** Start profiling this thread with `options` (JSON text kept for forked children). */
export function startAgent(options: AgentOptions, optionsJson: string, agentFile: string): void {
  const startUs = nowUs();
  const agentDir = dirname(agentFile);
  const agentFramePrefix = join(agentDir, 'agent');
  const pid = process.pid;
  const tid = wt.threadId;
  const isMain = wt.isMainThread;
  const spawn = isMain ? null : ((wt.getEnvironmentData(ENV_SPAWN) as SpawnData | undefined) ?? null);
  if (isMain) wt.setEnvironmentData(ENV_OPTIONS, optionsJson);
  // The runner's rescue of a program too busy for its SIGTERM handler opens the inspector with
  // SIGUSR1 (core/runner.ts): on a free port, not 9229 another program may hold. Not a
  // --inspect-port=0 flag: cluster derives its workers' ports from it (and gets port 1). A
  // program started with its own inspector flags keeps its port.
  if (isMain && !process.execArgv.some((a) => /^--(inspect|debug)/.test(a))) {
    try {
      process.debugPort = 0;
    } catch {
      // a Node without the inspector
    }
  }

  let processCtl = wt.getEnvironmentData(ENV_CTL) as SharedArrayBuffer | undefined;
  if (isMain || !processCtl) {
    processCtl = new SharedArrayBuffer(PCTL_WORDS * 4);
    wt.setEnvironmentData(ENV_CTL, processCtl as any);
  }
  const pctl = new Int32Array(processCtl);
  N.add(pctl, PCTL_LIVE, 1);
  const spawnCtl = spawn ? new Int32Array(spawn.ctl) : null;

  const writer = new EventWriter(join(options.runDir, `t-${pid}-${tid}.jsonl`));
  const ctx: AgentContext = {
    options,
    pid,
    tid,
    isMain,
    now: nowUs,
    write: (r) => writer.write(r),
    flush: () => writer.flush(),
    siteId: (fid, local) => fid * SITE_FID_SCALE + local,
    poll() {
      // Between the slices of a watched Atomics.wait or spin: two loads when nothing is asked.
      if (finished || isMain) return;
      const why = pendingRequest(spawnCtl, pctl);
      if (why) answer(why);
    },
    captureStack(skip = 0) {
      const limit = Error.stackTraceLimit;
      const prepare = (Error as any).prepareStackTrace;
      Error.stackTraceLimit = 32 + skip;
      (Error as any).prepareStackTrace = undefined;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      (Error as any).prepareStackTrace = prepare;
      return stack
        .split('\n')
        .slice(1)
        .map((l) => l.trim().replace(/^at /, ''))
        .filter((f) => !f.includes(agentFramePrefix))
        .slice(skip)
        .map((f) => originalFrame(f.endsWith(')') ? f : `<anonymous> (${f})`));
    },
  };

  const sampler = startSampler(options);
  const forkedBy = Number(process.env[FORKED_BY_ENV]);
  writer.write({
    k: 'thread',
    pid,
    ppid: isMain && forkedBy === process.ppid ? forkedBy : null,
    tid,
    parentTid: spawn?.parentTid ?? null,
    kind: isMain ? 'main' : 'worker',
    name: isMain ? 'main' : (spawn?.name ?? `worker ${tid}`),
    entry: isMain ? (process.argv[1] ?? null) : (spawn?.entry ?? null),
    startUs,
    nodeVersion: process.version,
    backend: sampler.backend,
    backendReason: sampler.reason,
  });

  const warnings: string[] = [];
  let ext: AgentExtension | null = null;
  let finished = false;
  // Requests from other threads may arrive by interrupt in the middle of the agent's own
  // flushing (reach.ts): they wait until it is done (depth 0) and run then.
  let depth = 0;
  let pending: FlushWhy | null = null;
  let started = false;
  const guarded = (fn: () => void): void => {
    depth++;
    try {
      fn();
    } finally {
      if (--depth === 0 && pending) {
        const why = pending;
        pending = null;
        answer(why);
      }
    }
  };
  let profileChunk = 0;
  const gc = new GcTracker(nowUs);
  // eslint-disable-next-line prefer-const
  let messages: MessageTracker;

  const st: AgentState = {
    ctx,
    get ext() {
      return ext;
    },
    agentFile,
    agentDir,
    optionsJson,
    get finished() {
      return finished;
    },
    warn(msg) {
      if (warnings.length < 100) {
        warnings.push(msg);
        writer.write({ k: 'warn', msg });
      }
    },
    flushAll(final) {
      guarded(() => {
        try {
          registry.writeCounts();
          const g = gc.take(final);
          if (g) writer.write(g);
          for (const m of messages?.take() ?? []) writer.write(m);
          ext?.flush(final);
        } catch (e) {
          writer.write({ k: 'warn', msg: `flush failed: ${errorText(e)}` });
        }
        writer.flush();
      });
    },
    finish(reason: ExitRecord['reason'], code: number | null, error?: string) {
      if (finished) return;
      finished = true;
      guarded(() => {
        // Shutting down from here on: the main thread no longer attaches the inspector to this worker.
        if (spawnCtl) N.store(spawnCtl, CTL_EXITING, 1);
        clearInterval(timer);
        writeProfile(() => sampler.stop());
        st.flushAll(true);
        const rec: ExitRecord = { k: 'exit', us: nowUs(), code, reason };
        if (error !== undefined) rec.error = error;
        writer.write(rec);
        writer.close();
        reach.close();
        // An attach that began before CTL_EXITING was set may be under way: let it end first.
        if (spawnCtl) {
          const until = Date.now() + ATTACH_WAIT_MS;
          while (N.load(pctl, PCTL_ATTACHING) === 1 && Date.now() < until) N.wait(pctl, PCTL_ATTACHING, 1, 5);
        }
        // The acknowledgements a waiting terminate() or flush-all looks for, last of all: when
        // this runs by interrupt (reach.ts), a terminate() that arrives while any more of our
        // code runs is consumed by that code and lost, and the worker would never stop.
        N.sub(pctl, PCTL_LIVE, 1);
        if (spawnCtl) N.store(spawnCtl, CTL_FLUSHED, 1);
        N.notify(pctl, PCTL_LIVE);
        if (spawnCtl) N.notify(spawnCtl, CTL_FLUSHED);
      });
    },
  };

  /**
   * A request from another thread (its inspector message, the polled request word, a
   * BroadcastChannel message): a last flush, or in a worker that stopped beating, a periodic one.
   * Returns what happened (for the runner, which asks the main thread of a busy program).
   */
  function answer(why: FlushWhy): string {
    if (finished) return 'done';
    if (!started) return 'starting';
    if (depth > 0) {
      if (pending !== null && why === 'periodic') return 'pending';
      pending = why;
      return 'pending';
    }
    if (why === 'periodic') {
      periodicFlush(false);
      return 'flushed';
    }
    if (isMain) flushOthers(why === 'signal' ? 'signal' : 'exit');
    st.finish(why === 'signal' ? 'signal' : 'terminate', null);
    return 'done';
  }

  try {
    ext = createSharedExtension(ctx);
  } catch (e) {
    st.warn(`shared-memory analysis disabled: ${errorText(e)}`);
  }
  function writeProfile(take: () => any): void {
    try {
      const profile = take();
      if (profile) {
        const file = `t-${pid}-${tid}.${profileChunk++}.cpuprofile`;
        writeFileSync(join(options.runDir, file), JSON.stringify(profile));
        writer.write({ k: 'profile', file, startUs: profile.startTime, endUs: profile.endTime });
      }
    } catch (e) {
      writer.write({ k: 'warn', msg: `CPU profile lost: ${errorText(e)}` });
    }
  }

  const registry = new ModuleRegistry(ctx, ext);
  const reach = new ThreadReach(pctl);
  registry.install({
    f: answer,
    // The main thread forwards a worker's request to threads the worker cannot reach itself.
    r: isMain ? (tids: number[], why: FlushWhy) => reach.flush(tids, why) : undefined,
  });
  installColumnMaps();

  // Each register() starts a hooks thread and waits for it (about one Node start-up), so a
  // thread registers only once it may load an ES module: its entry is one, or code it compiles
  // (any CommonJS module, node_modules included, or eval-worker code) contains `import(`.
  let hooksRegistered = false;
  const registerEsmHooks = (): void => {
    if (hooksRegistered || typeof (Module as any).register !== 'function') return;
    hooksRegistered = true;
    try {
      wt.setEnvironmentData(ENV_HOOKS, 1);
      (Module as any).register(pathToFileURL(join(agentDir, 'agent-hooks.mjs')).href, { data: { options, agentDir } });
      // Nothing in Node 20 avoids it (in-thread module.registerHooks came in 22.15), so the
      // report says it, once per process.
      if (N.compareExchange(pctl, PCTL_NOTED, 0, 1) === 0) {
        const first = isMain && !started ? " (this program's first worker is thread 2, not 1)" : '';
        st.warn(`Node runs ES module hooks on a thread of their own, which takes a thread id: workers started after it are numbered one higher than under plain node${first}.`);
      }
    } catch (e) {
      st.warn(`ES module instrumentation off: ${errorText(e)}`);
    } finally {
      wt.setEnvironmentData(ENV_HOOKS, undefined as any);
    }
  };
  const entry = isMain ? (process.argv[1] ?? null) : (spawn?.entry ?? null);
  if (isEsmEntry(entry) || spawn?.dynamicImport) registerEsmHooks();
  installCjsHook(options, agentDir, st.warn, registerEsmHooks);
  if (options.counts || options.races || options.locks) {
    installOriginalToString();
    try {
      installDynamicCodeHooks(st);
    } catch (e) {
      st.warn(`code compiled from strings runs uninstrumented: ${errorText(e)}`);
    }
  }

  messages = new MessageTracker(st, spawn?.parentTid ?? null);
  messages.install();
  const control = new wt.BroadcastChannel('__parprof_ctl');
  const hooks = installThreadHooks(st, messages, control, reach);
  if (isMain && forkedBy === process.ppid) trackIpc(process, messages);
  if (spawn) listenForFlushRequests(st, control, answer);
  else (control as any).unref?.();
  try {
    gc.install();
  } catch (e) {
    st.warn(`gc tracking off: ${errorText(e)}`);
  }

  // Guarded: the runner's request (by interrupt, during the wait for the other threads) then
  // waits for this flush instead of starting a second one inside it.
  const flushOthers = (why: 'signal' | 'exit'): void => guarded(() => flushAllThreads(messages, control, pctl, reach, why));
  installExitPaths(st, isMain, flushOthers);
  let chunkStartUs = nowUs();
  let beat = 0;
  /**
   * The periodic flush: from the timer in a thread that runs its event loop (`full`, beating),
   * or on a parent's request (reach.ts) in one that does not. That request runs by interrupt,
   * anywhere in the program, perhaps inside the shared-memory recorder's own code: it writes
   * only the counters, garbage collections and profile chunks, whose state is always whole.
   */
  function periodicFlush(full: boolean): void {
    guarded(() => {
      // Long runs write their profile in chunks: memory stays bounded and a killed program
      // keeps all but the last chunk. Each rotation costs ~5-20 ms of CPU, hence the period.
      if (nowUs() - chunkStartUs >= (options.profileChunkMs ?? PROFILE_CHUNK_MS) * 1000) {
        chunkStartUs = nowUs();
        writeProfile(() => sampler.rotate());
      }
      if (full) {
        st.flushAll(false);
        if (spawnCtl) N.store(spawnCtl, CTL_BEAT, ++beat);
        return;
      }
      registry.writeCounts();
      const g = gc.take(false);
      if (g) writer.write(g);
      writer.flush();
    });
  }
  const timer = setInterval(() => {
    periodicFlush(true);
    hooks.pokeStuckChildren();
  }, Math.max(50, options.flushIntervalMs || 1000));
  timer.unref();

  try {
    if (spawn) messages.patchReceivedPorts(wt.workerData);
    ext?.threadStart(spawn?.ext, wt.workerData);
  } catch (e) {
    st.warn(`shared-memory extension threadStart failed: ${errorText(e)}`);
  }
  started = true;
  writer.flush();
  // Only now may the parent ask for a flush before terminate().
  if (spawnCtl) N.store(spawnCtl, CTL_READY, 1);
}
