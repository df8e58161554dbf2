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
import { installColumnMaps, originalFrame } from './transform/columns';
import { installOriginalToString } from './transform/toString';
import type { AgentContext, AgentExtension } from './extension';
import { GcTracker } from './gc';
import { MessageTracker } from './messages';
import { ModuleRegistry } from './runtime';
import { startSampler } from './sampler';
import { createSharedExtension } from './shared/index';
import { ENV_CTL, ENV_HOOKS, ENV_OPTIONS, FORKED_BY_ENV, PCTL_LIVE, type AgentState, type SpawnData, ENV_SPAWN } from './state';
import { flushAllThreads, installThreadHooks, listenForFlushRequests } from './threads';
import { errorText, installExitPaths } from './lifecycle';
import { EventWriter, nowUs } from './writer';
import { nativeAtomics as N } from './shared/native';

/** True when `entry` will load as an ES module (.mjs/.mts, or .js/.ts under "type": "module"). */
function isEsmEntry(entry: string | null): boolean {
  if (!entry) return false;
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

  let processCtl = wt.getEnvironmentData(ENV_CTL) as SharedArrayBuffer | undefined;
  if (isMain || !processCtl) {
    processCtl = new SharedArrayBuffer(16);
    wt.setEnvironmentData(ENV_CTL, processCtl as any);
  }
  const pctl = new Int32Array(processCtl);
  N.add(pctl, PCTL_LIVE, 1);

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
    },
    finish(reason: ExitRecord['reason'], code: number | null, error?: string) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      writeProfile(() => sampler.stop());
      st.flushAll(true);
      const rec: ExitRecord = { k: 'exit', us: nowUs(), code, reason };
      if (error !== undefined) rec.error = error;
      writer.write(rec);
      writer.close();
      N.sub(pctl, PCTL_LIVE, 1);
    },
  };

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
  registry.install();
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
    } catch (e) {
      st.warn(`ES module instrumentation off: ${errorText(e)}`);
    } finally {
      wt.setEnvironmentData(ENV_HOOKS, undefined as any);
    }
  };
  const entry = isMain ? (process.argv[1] ?? null) : (spawn?.entry ?? null);
  if (isEsmEntry(entry) || spawn?.dynamicImport) registerEsmHooks();
  installCjsHook(options, agentDir, st.warn, registerEsmHooks);
  if (options.counts || options.races || options.locks) installOriginalToString();

  messages = new MessageTracker(st, spawn?.parentTid ?? null);
  messages.install();
  const control = new wt.BroadcastChannel('__parprof_ctl');
  installThreadHooks(st, messages, control);
  if (spawn) listenForFlushRequests(st, spawn, control, pctl);
  else (control as any).unref?.();
  try {
    gc.install();
  } catch (e) {
    st.warn(`gc tracking off: ${errorText(e)}`);
  }

  installExitPaths(st, isMain, (why) => flushAllThreads(messages, control, pctl, why));
  let chunkStartUs = nowUs();
  const timer = setInterval(() => {
    // Long runs write their profile in chunks: memory stays bounded and a killed program
    // keeps all but the last chunk. Each rotation costs ~5-20 ms of CPU, hence the period.
    if (nowUs() - chunkStartUs >= (options.profileChunkMs ?? PROFILE_CHUNK_MS) * 1000) {
      chunkStartUs = nowUs();
      writeProfile(() => sampler.rotate());
    }
    st.flushAll(false);
  }, Math.max(50, options.flushIntervalMs || 1000));
  timer.unref();

  try {
    if (spawn) messages.patchReceivedPorts(wt.workerData);
    ext?.threadStart(spawn?.ext, wt.workerData);
  } catch (e) {
    st.warn(`shared-memory extension threadStart failed: ${errorText(e)}`);
  }
  writer.flush();
}
