/**
 * CPU sampling of this thread: v8-profiler-next when its native binary loads here, else the
 * `node:inspector` Profiler domain (which works inside workers). Both give `.cpuprofile` data
 * whose startTime is on the hrtime µs clock; v8-profiler-next's 1-based frame positions are
 * turned into V8's 0-based ones so every chunk reads the same.
 */
import { isMainThread } from 'node:worker_threads';
import { existsSync, statSync } from 'node:fs';
import * as inspector from 'node:inspector';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AgentOptions } from '../protocol/events';

/** A started sampler. */
export interface CpuSampler {
  backend: 'v8-profiler-next' | 'inspector' | 'none';
  reason: string;
  /** Stop sampling and return the profile (V8 .cpuprofile shape) or null. */
  stop(): any | null;
  /** End the current chunk and start the next one; returns the finished chunk or null. */
  rotate(): any | null;
}

/**
 * v8-profiler-next finds its binary with node-pre-gyp, which costs more than half the agent's
 * start-up in every thread (measured). Its binary lives at a fixed place for this Node ABI, so
 * load it directly and hand it to the package as its `lib/binding.js`; fall back to the
 * package's own loader when the layout differs.
 */
function preloadBinding(pkgDir: string): void {
  const bindingJs = join(pkgDir, 'lib', 'binding.js');
  const req = createRequire(bindingJs);
  if (req.cache[bindingJs] || !existsSync(bindingJs)) return;
  const abiDir = `node-v${process.versions.modules}-${process.platform}-${process.arch}`;
  const binary = join(pkgDir, 'build', 'binding', 'Release', abiDir, 'profiler.node');
  if (!existsSync(binary)) return;
  const m = new (Module as any)(bindingJs);
  m.filename = bindingJs;
  m.exports = req(binary);
  m.loaded = true;
  req.cache[bindingJs] = m;
}

function startV8ProfilerNext(path: string, intervalUs: number): CpuSampler {
  // A plain require of the absolute path: the native addon must not be bundled.
  const pkgDir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  try {
    preloadBinding(pkgDir);
  } catch {
    // the package's own loader will try (and say why it fails)
  }
  const profiler = createRequire(path)(path);
  profiler.setGenerateType(1);
  profiler.setSamplingInterval(intervalUs);
  const title = `parprof-${process.pid}`;
  profiler.startProfiling(title, true);
  const sampler: CpuSampler = {
    backend: 'v8-profiler-next',
    reason: `loaded ${path}`,
    rotate() {
      const chunk = sampler.stop();
      profiler.startProfiling(title, true);
      return chunk;
    },
    stop() {
      const p = profiler.stopProfiling(title);
      if (!p) return null;
      // The returned profile is a plain object (export() only stringifies it on a later tick).
      const json: any = { nodes: p.nodes, startTime: p.startTime, endTime: p.endTime, samples: p.samples, timeDeltas: p.timeDeltas };
      p.delete?.();
      if (!json) return null;
      for (const node of json.nodes ?? []) {
        const cf = node.callFrame;
        if (cf) {
          cf.lineNumber = (cf.lineNumber ?? 0) - 1;
          cf.columnNumber = (cf.columnNumber ?? 0) - 1;
          delete cf.bailoutReason;
        }
      }
      return { nodes: json.nodes, startTime: json.startTime, endTime: json.endTime, samples: json.samples, timeDeltas: json.timeDeltas };
    },
  };
  return sampler;
}

function startInspector(intervalUs: number, reason: string): CpuSampler {
  const session = new inspector.Session();
  session.connect();
  // Same-thread session: post() answers synchronously, so this works from exit handlers too.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  session.post('Profiler.start');
  const take = (): any => {
    let profile: any = null;
    session.post('Profiler.stop', (err, res) => {
      if (!err) profile = res.profile;
    });
    return profile;
  };
  return {
    backend: 'inspector',
    reason,
    rotate() {
      const chunk = take();
      session.post('Profiler.start');
      return chunk;
    },
    stop() {
      const profile = take();
      try {
        session.disconnect();
      } catch {
        // the thread may already be tearing down
      }
      return profile;
    },
  };
}

/** Start the best available sampler for this thread, saying which one ran and why. */
export function startSampler(options: AgentOptions): CpuSampler {
  const interval = Math.max(1, Math.round(options.sampleIntervalUs || 1000));
  let why: string;
  // v8-profiler-next segfaults the whole process when a worker it profiles is terminated
  // (piscina/tinypool destroy(), measured on Node 20): it samples main threads only, also
  // when asked for by name (a profile of every thread beats a crash).
  const asked = options.backend === 'v8-profiler-next';
  if (options.backend !== 'inspector' && isMainThread) {
    if (options.v8ProfilerPath) {
      try {
        const sampler = startV8ProfilerNext(options.v8ProfilerPath, interval);
        if (asked) sampler.reason += '; workers use the inspector (v8-profiler-next crashes the process when a profiled worker is terminated)';
        return sampler;
      } catch (e) {
        why = `v8-profiler-next failed to load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      }
    } else {
      why = 'v8-profiler-next not available (no path given)';
    }
  } else if (!isMainThread && options.backend !== 'inspector') {
    why = `${asked ? 'v8-profiler-next was asked for, but it' : 'auto: v8-profiler-next'} crashes the process when a profiled worker is terminated, so workers use the inspector`;
  } else {
    why = 'inspector backend requested';
  }
  try {
    return startInspector(interval, why);
  } catch (e) {
    return { backend: 'none', reason: `${why}; inspector failed: ${String(e)}`, stop: () => null, rotate: () => null };
  }
}
