/**
 * Stand-in for the core's `profileProgram`, used only until src/core/index.ts lands: it runs
 * the program plainly (no agent) so the host's plumbing — output streaming, cancel, panel,
 * history — can be exercised. Same shapes as the real module (src/core/api.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProfileOptions, ProfileResult } from '../core/api';
import { REPORT_SCHEMA, type Report } from '../protocol/report';

/** Runs the program without profiling and returns a one-thread report. */
export async function profileProgram(opts: ProfileOptions): Promise<ProfileResult> {
  const cwd = opts.cwd ?? process.cwd();
  const file = resolve(cwd, opts.file);
  const outDir = opts.outDir ?? join(cwd, '.parprof', String(Date.now()));
  mkdirSync(outDir, { recursive: true });
  const start = performance.now();
  const child = spawn(opts.node ?? 'node', [...(opts.nodeArgs ?? []), file, ...opts.args], {
    cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => opts.onStdout?.(c));
  child.stderr.on('data', (c: Buffer) => opts.onStderr?.(c));
  let cancelled = false;
  const kill = () => {
    cancelled = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  opts.signal?.addEventListener('abort', kill, { once: true });
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((res) => {
    child.on('error', () => res({ code: null, signal: null }));
    child.on('close', (c, s) => res({ code: c, signal: s }));
  });
  opts.signal?.removeEventListener('abort', kill);
  const wallMs = performance.now() - start;
  const report: Report = {
    schema: REPORT_SCHEMA,
    tool: {
      name: 'parprof',
      version: 'stub',
      backend: 'none',
      backendReason: 'core not built yet',
      nodeVersion: null,
      sampleIntervalUs: opts.sampleIntervalUs ?? 1000,
      callCounts: false,
      raceDetection: false,
      raceSampleRate: null,
    },
    program: { file, args: opts.args, cwd, exitCode: code, signal, error: null, outcome: cancelled ? 'cancelled' : 'exited' },
    wallMs,
    originMs: 0,
    partial: cancelled,
    warnings: ['Profiled by the extension stub: the core is not built yet.'],
    threads: [
      {
        id: 0,
        key: `${child.pid}:0`,
        pid: child.pid ?? 0,
        name: 'main',
        kind: 'main',
        entry: file,
        parentId: null,
        startMs: 0,
        endMs: wallMs,
        exitCode: code,
        cpuMs: null,
        blockedMs: null,
        idleMs: null,
        gcMs: null,
        complete: !cancelled,
      },
    ],
    functions: [],
    races: [],
    locks: [],
    deadlocks: [],
    messages: [],
    metrics: {
      cpuMs: 0,
      parallelism: 1,
      efficiency: 1,
      threadsUsed: 1,
      observedSerialFraction: null,
      amdahlCeiling: null,
      busyOverTime: { bucketMs: 1, busy: [] },
      serialPhases: [],
    },
    diagnostics: [],
    timeline: { thread: [], start: [], end: [], state: [], stack: [], label: [], labels: [], wakeups: [] },
    stacks: { frames: [], stacks: [] },
  };
  writeFileSync(join(outDir, 'report.json'), JSON.stringify(report));
  return { report, outDir, runDir: outDir };
}
