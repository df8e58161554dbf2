/** One plain (unprofiled) run of the program with its wall time measured around it. */
import { spawn } from 'node:child_process';

/** What to run. */
export interface TimedRunOptions {
  node: string;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  timeoutSec: number | null;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** How the run went. */
export interface TimedRun {
  wallMs: number;
  exitCode: number | null;
  cancelled: boolean;
  timedOut: boolean;
  /** The program's own compute time when it prints `compute-ms: <n>`, else null. */
  computeMs: number | null;
  /** Last stderr line, for a one-sentence failure note. */
  stderrTail: string;
}

const COMPUTE_RE = /compute-ms:\s*([0-9.]+)/;

/** Spawns `node file args` and measures spawn → exit on the monotonic clock. */
export function timeProgram(o: TimedRunOptions): Promise<TimedRun> {
  if (o.signal?.aborted)
    return Promise.resolve({
      wallMs: 0,
      exitCode: null,
      cancelled: true,
      timedOut: false,
      computeMs: null,
      stderrTail: '',
    });
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, ...o.env };
    // A scaling run must not inherit a profiler preload from the environment.
    delete env.PARPROF_AGENT_OPTIONS;
    const t0 = process.hrtime.bigint();
    const child = spawn(o.node, [o.file, ...o.args], {
      cwd: o.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let cancelled = false;
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => {
      o.onStdout?.(c);
      out = (out + c.toString()).slice(-4096);
    });
    child.stderr.on('data', (c: Buffer) => {
      o.onStderr?.(c);
      err = (err + c.toString()).slice(-4096);
    });
    const kill = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 1000).unref();
    };
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = o.timeoutSec ? setTimeout(() => ((timedOut = true), kill()), o.timeoutSec * 1000) : null;
    child.on('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      o.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      // Let the pipes drain so the compute-ms line is seen.
      child.on('close', () => {
        const m = COMPUTE_RE.exec(out);
        const tail = err.trim().split('\n').pop() ?? '';
        resolvePromise({
          wallMs,
          exitCode: code,
          cancelled,
          timedOut,
          computeMs: m ? Number(m[1]) : null,
          stderrTail: tail.slice(0, 200),
        });
      });
    });
  });
}
