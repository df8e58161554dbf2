/**
 * Runs the user's program under the agent: `<node> --require <agent> [nodeArgs] <file> <args>`
 * in its own process group, so a timeout or cancel ends the whole tree (SIGTERM, then SIGKILL
 * ~700 ms later). Writes run.json before and outcome.json after; never analyses.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { AGENT_OPTIONS_ENV, RUN_MANIFEST, RUN_OUTCOME, type AgentOptions, type RunManifest, type RunOutcome } from '../protocol/events';
import { UserError, type ProfileOptions } from './api';
import { packageRoot, toolVersion } from './packageInfo';

const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx']);
const KILL_GRACE_MS = 700;
const STDERR_TAIL = 8192;

/** Absolute path of the bundled agent preload. */
export function agentPath(): string {
  const p = join(packageRoot(), 'out', 'agent.js');
  if (!existsSync(p)) throw new UserError(`the profiling agent is not built (${p} is missing); run "npm run build" first`);
  return p;
}

/** v8-profiler-next resolved from this package's node_modules, or null. */
export function v8ProfilerPath(): string | null {
  try {
    return createRequire(join(packageRoot(), 'package.json')).resolve('v8-profiler-next');
  } catch {
    return null;
  }
}

/** Checks the entry file; throws a UserError with one sentence when it cannot be profiled. */
export function checkEntryFile(file: string, cwd: string): string {
  const abs = resolve(cwd, file);
  if (!existsSync(abs)) throw new UserError(`${file}: no such file`);
  if (statSync(abs).isDirectory()) throw new UserError(`${file} is a directory; give the program's entry file (e.g. ${join(file, 'index.js')})`);
  const ext = extname(abs).toLowerCase();
  if (!SCRIPT_EXTENSIONS.has(ext)) throw new UserError(`${file} is not a JavaScript or TypeScript file (expected .js, .mjs, .cjs, .ts, .mts or .cts)`);
  return abs;
}

/** Empties a run directory left by an earlier run (thread files are appended to), or creates it. */
export function clearRunDir(runDir: string): void {
  if (existsSync(runDir)) {
    for (const name of readdirSync(runDir)) {
      if (/^t-\d+-\d+\./.test(name) || name === RUN_MANIFEST || name === RUN_OUTCOME) rmSync(join(runDir, name), { force: true });
    }
  }
  mkdirSync(runDir, { recursive: true });
}

/** The agent options a profile run uses. */
export function agentOptions(opts: ProfileOptions, runDir: string): AgentOptions {
  return {
    runDir,
    sampleIntervalUs: opts.sampleIntervalUs ?? 1000,
    counts: opts.counts ?? true,
    races: opts.races ?? true,
    raceSample: opts.raceSample ?? null,
    instrumentDeps: opts.instrumentDeps ?? false,
    locks: opts.locks ?? true,
    deadlockTimeoutMs: opts.deadlockTimeoutMs ?? 3000,
    flushIntervalMs: 1000,
    backend: opts.backend ?? 'auto',
    v8ProfilerPath: v8ProfilerPath(),
    shadowCapMiB: 256,
  };
}

/** What happened to the program. */
export interface RunResult {
  outcome: RunOutcome;
  manifest: RunManifest;
}

function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Runs the program to its end (or timeout / cancel) and writes run.json and outcome.json into runDir. */
export async function runProgram(opts: ProfileOptions, runDir: string): Promise<RunResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const file = checkEntryFile(opts.file, cwd);
  clearRunDir(runDir);
  const node = opts.node ?? 'node';
  const options = agentOptions(opts, runDir);
  const manifest: RunManifest = { file, args: opts.args, cwd, node, startedUs: nowUs(), options, toolVersion: toolVersion() };
  writeFileSync(join(runDir, RUN_MANIFEST), JSON.stringify(manifest, null, 2));

  const argv = ['--require', agentPath(), ...(opts.nodeArgs ?? []), file, ...opts.args];
  const env = { ...process.env, ...opts.env, [AGENT_OPTIONS_ENV]: JSON.stringify(options) };
  let stderrTail = '';
  let kind: 'timeout' | 'cancelled' | null = null;
  let spawnError: Error | null = null;

  const child = spawn(node, argv, {
    cwd,
    env,
    detached: true,
    // A detached child in the background process group would stop on reading a terminal.
    stdio: [process.stdin.isTTY ? 'ignore' : 'inherit', 'pipe', 'pipe'],
  });
  const onStdout = opts.onStdout ?? ((c: Buffer) => process.stdout.write(c));
  const onStderr = opts.onStderr ?? ((c: Buffer) => process.stderr.write(c));
  child.stdout?.on('data', (c: Buffer) => onStdout(c));
  child.stderr?.on('data', (c: Buffer) => {
    onStderr(c);
    stderrTail = (stderrTail + c.toString('utf8')).slice(-STDERR_TAIL);
  });

  let killTimer: NodeJS.Timeout | null = null;
  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* the group is gone */
    }
  };
  const stop = (why: 'timeout' | 'cancelled') => {
    if (kind) return;
    kind = why;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timeout = opts.timeoutSec && opts.timeoutSec > 0 ? setTimeout(() => stop('timeout'), opts.timeoutSec * 1000) : null;
  const onAbort = () => stop('cancelled');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let lingerTimer: NodeJS.Timeout | null = null;
    child.on('error', (err) => {
      spawnError = err;
      res({ code: null, signal: null });
    });
    child.on('exit', (c, s) => {
      exited = { code: c, signal: s };
      // Leftover processes of the group holding stdout open: give them a moment, then end them.
      lingerTimer = setTimeout(() => {
        killGroup('SIGKILL');
        res(exited!);
      }, 2000);
    });
    child.on('close', (c, s) => {
      if (lingerTimer) clearTimeout(lingerTimer);
      res(exited ?? { code: c, signal: s });
    });
  });
  if (timeout) clearTimeout(timeout);
  if (killTimer) clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  // Make sure nothing of the tree outlives a cancelled or timed-out run.
  if (kind) killGroup('SIGKILL');

  if (spawnError) {
    const e = spawnError as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UserError(`cannot run "${node}": no such program (set the Node.js path)`);
    throw new UserError(`cannot run "${node}": ${e.message}`);
  }
  let outcome: string = kind ?? 'exited';
  if (!kind && signal) outcome = 'crashed';
  else if (!kind && code !== 0 && startFailure(stderrTail, file)) outcome = 'failed-to-start';
  const result: RunOutcome = { exitCode: code, signal, outcome, endedUs: nowUs(), stderrTail: stderrTail.slice(-4000) };
  writeFileSync(join(runDir, RUN_OUTCOME), JSON.stringify(result, null, 2));
  return { outcome: result, manifest };
}

/** Whether a failing program's stderr says it never got going (a syntax error, or its entry could not be loaded). */
function startFailure(stderrTail: string, file: string): boolean {
  if (/^SyntaxError\b/m.test(stderrTail)) return true;
  return /ERR_MODULE_NOT_FOUND|ERR_UNKNOWN_FILE_EXTENSION|Cannot find module/.test(stderrTail) && stderrTail.includes(file);
}
