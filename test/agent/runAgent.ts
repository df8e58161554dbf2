/**
 * Runs a fixture under the built agent (`node --require out/agent.js`) and reads back the raw
 * run directory: one record list per thread file, keyed "pid:tid".
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentOptions, AgentRecord, ModuleRecord, ThreadRecord } from '../../src/protocol/events';

export const ROOT = join(__dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'agent');
export const AGENT = join(ROOT, 'out', 'agent.js');

/** One thread file, parsed. */
export interface ThreadFile {
  file: string;
  records: AgentRecord[];
  info: ThreadRecord;
}

/** What a profiled run left behind. */
export interface AgentRun {
  dir: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  threads: ThreadFile[];
}

/** Default options for tests (counts on, shared-memory analysis off). */
export function testOptions(dir: string, over: Partial<AgentOptions> = {}): AgentOptions {
  return {
    runDir: dir,
    sampleIntervalUs: 1000,
    counts: true,
    races: false,
    raceSample: null,
    instrumentDeps: false,
    locks: false,
    deadlockTimeoutMs: 0,
    flushIntervalMs: 500,
    backend: 'auto',
    v8ProfilerPath: join(ROOT, 'node_modules', 'v8-profiler-next'),
    shadowCapMiB: 64,
    ...over,
  };
}

/** Parse every t-*.jsonl of a run directory. */
export function readRunDir(dir: string): ThreadFile[] {
  return readdirSync(dir)
    .filter((f) => /^t-\d+-\d+\.jsonl$/.test(f))
    .sort()
    .map((file) => {
      const records = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AgentRecord);
      return { file, records, info: records[0] as ThreadRecord };
    });
}

interface RunOpts {
  options?: Partial<AgentOptions>;
  args?: string[];
  timeoutMs?: number;
  /** Called with the child and its stdout so far, each time stdout grows. */
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void;
}

/** Run `fixture` with the agent; resolves when the process ends (killed after timeoutMs). */
export function runAgent(fixture: string, opts: RunOpts = {}): Promise<AgentRun> {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-agent-'));
  const env = { ...process.env, PARPROF_AGENT_OPTIONS: JSON.stringify(testOptions(dir, opts.options)) };
  const child = spawn(process.execPath, ['--require', AGENT, join(FIXTURES, fixture), ...(opts.args ?? [])], { env, cwd: FIXTURES });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    opts.onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ dir, code, signal, stdout, stderr, threads: readRunDir(dir) });
    });
  });
}

/** Run `fixture` with plain node (no agent) for comparing output. */
export function runPlain(fixture: string, args: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.PARPROF_AGENT_OPTIONS;
  const r = spawnSync(process.execPath, [join(FIXTURES, fixture), ...args], { env, cwd: FIXTURES, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Records of one kind from a thread file. */
export function recordsOf<K extends AgentRecord['k']>(t: ThreadFile, k: K): Extract<AgentRecord, { k: K }>[] {
  return t.records.filter((r) => r.k === k) as Extract<AgentRecord, { k: K }>[];
}

/** The thread file of thread id `tid` (first process unless pid given). */
export function threadByTid(run: AgentRun, tid: number, pid?: number): ThreadFile {
  const t = run.threads.find((x) => x.info.tid === tid && (pid === undefined || x.info.pid === pid));
  if (!t) throw new Error(`no thread ${tid} in ${run.dir}: ${run.threads.map((x) => x.file).join(', ')}`);
  return t;
}

/** Last counts of function `name` in module files ending with `fileSuffix`, as [ncalls, prim]. */
export function callsOf(t: ThreadFile, fileSuffix: string, name: string): [number, number] | null {
  const mod = recordsOf(t, 'module').find((m: ModuleRecord) => m.file.endsWith(fileSuffix));
  if (!mod) return null;
  const i = mod.names.indexOf(name);
  if (i < 0) return null;
  const counts = recordsOf(t, 'counts').filter((c) => c.fid === mod.fid);
  const last = counts[counts.length - 1];
  if (!last) return [0, 0];
  return [last.ncalls[i]!, last.prim[i]!];
}

/** The thread of the first worker that thread `parent` spawned. */
export function firstChild(run: AgentRun, parent: ThreadFile): ThreadFile {
  const spawn = recordsOf(parent, 'spawn')[0];
  if (!spawn) throw new Error(`${parent.file} spawned no worker`);
  return threadByTid(run, spawn.childTid, parent.info.pid);
}

/** An onStdout callback that sends `signal` (after `delayMs`) once stdout contains `text`. */
export function signalWhen(text: string, signal: NodeJS.Signals, delayMs = 0): { onStdout: RunOpts['onStdout']; sent: () => boolean } {
  let sent = false;
  return {
    sent: () => sent,
    onStdout: (out, child) => {
      if (sent || !out.includes(text)) return;
      sent = true;
      setTimeout(() => child.kill(signal), delayMs);
    },
  };
}
