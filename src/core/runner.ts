/**
 * Runs the user's program under the agent: `<node> --require <agent> [nodeArgs] <file> <args>`
 * in its own process group, so a timeout or cancel ends the whole tree (SIGTERM, then SIGKILL
 * at most a second later). A program whose main thread computes without end never runs its
 * SIGTERM handler: such a process is sent SIGUSR1, which makes Node start its inspector even
 * while JavaScript runs (on a free port: the agent sets process.debugPort to 0), and the runner
 * asks the agent over it for the last flush (rescue).
 * Writes run.json before and outcome.json after; never analyses.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { connect, type Socket } from 'node:net';
import { extname, join, resolve } from 'node:path';
import { AGENT_OPTIONS_ENV, RUN_MANIFEST, RUN_OUTCOME, type AgentOptions, type RunManifest, type RunOutcome } from '../protocol/events';
import { UserError, type ProfileOptions } from './api';
import { packageRoot, toolVersion } from './packageInfo';

const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx']);
/** After SIGTERM: a process still alive this much later gets the rescue; SIGKILL comes at the grace's end. */
const RESCUE_AFTER_MS = 250;
const KILL_GRACE_MS = 1000;
/** The longest one rescue (connect, last flush, answer) may take. */
const RESCUE_EVAL_MS = 600;
/** setTimeout's largest delay; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const STDERR_TAIL = 8192;
/** What Node prints on stderr when the rescue starts its inspector: not the program's output. */
const INSPECTOR_NOISE =
  /^(?:Debugger listening on ws:\/\/\S+|For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector|Debugger attached\.|Debugger ending on ws:\/\/\S+|Waiting for the debugger to disconnect\.\.\.)\r?$/;

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
  const manifest: RunManifest = { file, args: opts.args, cwd, node, startedUs: nowUs(), options, toolVersion: toolVersion(), cores: availableParallelism() };
  writeFileSync(join(runDir, RUN_MANIFEST), JSON.stringify(manifest, null, 2));

  const argv = ['--require', agentPath(), ...(opts.nodeArgs ?? []), file, ...opts.args];
  const env = { ...process.env, ...opts.env, [AGENT_OPTIONS_ENV]: JSON.stringify(options) };
  let stderrTail = '';
  let kind: 'timeout' | 'cancelled' | null = null;
  let spawnError: Error | null = null;
  let exitedYet = false;

  const child = spawn(node, argv, {
    cwd,
    env,
    detached: true,
    // A detached child in the background process group would stop on reading a terminal.
    stdio: [process.stdin.isTTY ? 'ignore' : 'inherit', 'pipe', 'pipe'],
  });
  const stdoutEcho = opts.onStdout ? guardEcho(opts.onStdout) : echoTo(process.stdout);
  const stderrEcho = opts.onStderr ? guardEcho(opts.onStderr) : echoTo(process.stderr);
  const rescue = new Rescue(runDir, child.pid);
  child.stdout?.on('data', (c: Buffer) => stdoutEcho.write(c));
  child.stderr?.on('data', (c: Buffer) => {
    const shown = rescue.active ? rescue.filter(c) : c;
    if (shown.length === 0) return;
    stderrEcho.write(shown);
    stderrTail = (stderrTail + shown.toString('utf8')).slice(-STDERR_TAIL);
  });

  let killTimer: NodeJS.Timeout | null = null;
  let rescueTimer: NodeJS.Timeout | null = null;
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
    // Still alive a moment later: a thread too busy to run its SIGTERM handler. Rescue its
    // data, then end the group as soon as every rescue answered (or at the grace's end).
    rescueTimer = setTimeout(() => {
      if (!exitedYet) void rescue.run().then((rescued) => rescued && killGroup('SIGKILL'));
    }, RESCUE_AFTER_MS);
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timeout = timeoutMs(opts.timeoutSec) !== null ? setTimeout(() => stop('timeout'), timeoutMs(opts.timeoutSec)!) : null;
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
      exitedYet = true;
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
  if (rescueTimer) clearTimeout(rescueTimer);
  rescue.close();
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

/** The run's time limit in ms, or null for none; past setTimeout's range it would fire at once, so it is capped there (24.8 days). */
export function timeoutMs(timeoutSec: number | null | undefined): number | null {
  if (typeof timeoutSec !== 'number' || !(timeoutSec > 0)) return null;
  return Math.min(timeoutSec * 1000, MAX_TIMER_MS);
}

/** Where the program's output is echoed: stops (and the run goes on) once the reader has gone. */
interface Echo {
  write(chunk: Buffer): void;
}

/** Echo to a caller's callback; a callback that throws is not called again. */
function guardEcho(fn: (chunk: Buffer) => void): Echo {
  let broken = false;
  return {
    write(chunk) {
      if (broken) return;
      try {
        fn(chunk);
      } catch {
        broken = true;
      }
    },
  };
}

/** This process's streams whose reader has gone (an 'error' such as EPIPE was seen on them). */
const goneStreams = new WeakMap<NodeJS.WriteStream, boolean>();

/**
 * Echo to this process's stdout or stderr; a closed pipe (EPIPE: \`parprof run … | head\`) ends
 * the echo, not the run. The listener stays for the life of the process: a write still in
 * flight may fail after the run.
 */
function echoTo(stream: NodeJS.WriteStream): Echo {
  if (!goneStreams.has(stream)) {
    goneStreams.set(stream, false);
    stream.on('error', () => goneStreams.set(stream, true));
  }
  return {
    write(chunk) {
      if (goneStreams.get(stream) || stream.destroyed) return;
      try {
        stream.write(chunk);
      } catch {
        goneStreams.set(stream, true);
      }
    },
  };
}

/**
 * The last flush of processes too busy to run their SIGTERM handler: SIGUSR1 makes Node open
 * its inspector (dispatched by interrupt, so it answers while JavaScript runs), and a
 * Runtime.evaluate of the agent's `__pp.f("signal")` writes every thread's data. Only processes
 * that hold an agent (a main-thread file in the run directory) are signalled: SIGUSR1 would end
 * anything else.
 */
class Rescue {
  active = false;
  private readonly sockets = new Set<Socket>();
  private readonly started: Promise<boolean>[] = [];
  private expected = 0;
  private onAll: (() => void) | null = null;

  constructor(
    private readonly runDir: string,
    private readonly rootPid: number | undefined,
  ) {}

  /** Signal every live profiled process; resolves true once each answered and one was flushed by it (the group may die now). */
  run(): Promise<boolean> {
    const pids = this.profiledPids().filter(isAlive);
    if (pids.length === 0) return Promise.resolve(false);
    this.active = true;
    this.expected = pids.length;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGUSR1');
      } catch {
        this.expected--;
      }
    }
    return new Promise((res) => {
      const timer = setTimeout(() => res(false), KILL_GRACE_MS - RESCUE_AFTER_MS);
      this.onAll = () => {
        clearTimeout(timer);
        void Promise.all(this.started).then((answers) => res(answers.some(Boolean)));
      };
      if (this.expected <= 0) this.onAll();
    });
  }

  /** Drop Node's inspector messages from a stderr chunk; start a rescue for each inspector that opened. */
  filter(chunk: Buffer): Buffer {
    const lines = chunk.toString('utf8').split('\n');
    const kept = lines.filter((line) => {
      if (!INSPECTOR_NOISE.test(line)) return true;
      const url = /^Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (url) this.ask(url);
      return false;
    });
    return kept.length === lines.length ? chunk : Buffer.from(kept.join('\n'), 'utf8');
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private ask(url: string): void {
    this.started.push(
      evaluateOverWebSocket(url, 'globalThis.__pp?.f?.("signal")', RESCUE_EVAL_MS, this.sockets)
        // 'done': flushed by this request; 'pending': the agent is in its own last flush already.
        .then((answer) => answer === 'done')
        .catch(() => false),
    );
    if (this.started.length >= this.expected) this.onAll?.();
  }

  private profiledPids(): number[] {
    const pids = new Set<number>();
    try {
      for (const name of readdirSync(this.runDir)) {
        const m = /^t-(\d+)-0\.jsonl$/.exec(name);
        if (m) pids.add(Number(m[1]));
      }
    } catch {
      // no run directory: nothing to rescue
    }
    // The root first: its main thread also asks its workers.
    return [...pids].sort((a, b) => (a === this.rootPid ? -1 : b === this.rootPid ? 1 : a - b));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One `Runtime.evaluate` over the inspector's WebSocket (RFC 6455, the little of it needed:
 * one masked text frame out, unmasked frames in). Resolves the result's value, or null.
 */
function evaluateOverWebSocket(url: string, expression: string, timeoutMs: number, sockets: Set<Socket>): Promise<unknown> {
  return new Promise((res) => {
    const u = new URL(url);
    const sock = connect(Number(u.port), u.hostname);
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const finish = (value: unknown): void => {
      clearTimeout(timer);
      sock.destroy();
      sockets.delete(sock);
      res(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('error', () => finish(null));
    sock.on('close', () => finish(null));
    sock.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      sock.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    sock.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buf.subarray(0, end).toString('latin1'))) return finish(null);
        upgraded = true;
        buf = buf.subarray(end + 4);
        sock.write(maskedTextFrame(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true } })));
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const opcode = buf[0]! & 0x0f;
        const payload = buf.subarray(off, off + len).toString('utf8');
        buf = buf.subarray(off + len);
        if (opcode === 0x8) return finish(null);
        if (opcode !== 0x1) continue;
        try {
          const msg = JSON.parse(payload) as { id?: number; result?: { result?: { value?: unknown } } };
          if (msg.id === 1) return finish(msg.result?.result?.value ?? null);
        } catch {
          // not for us
        }
      }
    });
  });
}

function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0x80 | 126, n >> 8, n & 0xff]) : null;
  if (!head) throw new Error('inspector request too long');
  for (let i = 0; i < n; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, payload]);
}
