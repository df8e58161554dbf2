/**
 * `npm run bench`: every benchmark, one table of ratios, each measured side by side in one run
 * (plain and profiled runs alternate, median of ≥ 5, spread shown), plus the program's own
 * compute time where it prints `compute-ms: N`. Also runs bench/lint.ts and bench/timeline.ts
 * when present, and writes everything to bench/RESULTS.md with the machine it came from.
 * Usage: node --import tsx bench/run.ts [--rounds N] [--only NAME] [--no-lint] [--no-timeline] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProfileOptions } from '../src/core/api';
import { analyseRunDir } from '../src/core/analyse';
import { writeOutputs } from '../src/core/outputs';
import { runProgram } from '../src/core/runner';
import { median, spread } from '../src/core/scaling/formulas';
import { timeProgram } from '../src/core/scaling/timedRun';

const root = join(__dirname, '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ROUNDS = Math.max(5, Number(value('rounds') ?? 5));
const ONLY = value('only');

/** One timing of a program: wall time around it and its own compute time. */
interface Timing {
  wallMs: number;
  computeMs: number | null;
}

/** A profiled-vs-plain comparison. */
interface Comparison {
  name: string;
  kernel: string;
  env?: Record<string, string>;
  /** Profiler options of the profiled side (everything off that is not being measured). */
  profile: Partial<ProfileOptions>;
  /** Compare against the profiler with these options instead of plain node (what one feature adds). */
  baseline?: Partial<ProfileOptions>;
  target: number;
}

const OFF = { counts: false, races: false, locks: false };
const COMPARISONS: Comparison[] = [
  {
    name: 'sampling profile',
    kernel: 'cpu2.js',
    profile: { ...OFF },
    target: 1.05,
  },
  {
    name: 'sampling + exact call counts',
    kernel: 'parse.js',
    profile: { ...OFF, counts: true },
    target: 1.3,
  },
  {
    name: 'sampling + exact counts, bare arithmetic helpers, ~0.4 ns a call (worst case)',
    kernel: 'calls.js',
    profile: { ...OFF, counts: true },
    target: 1.3,
  },
  {
    name: 'sampling + exact counts, recursive fib (worst case)',
    kernel: 'fib.js',
    profile: { ...OFF, counts: true },
    target: 1.3,
  },
  {
    name: 'race detection (every access)',
    kernel: 'matmul.js',
    profile: { ...OFF, races: true },
    target: 3,
  },
  {
    name: 'race detection, sampling mode (10%)',
    kernel: 'matmul.js',
    profile: { ...OFF, races: true, raceSample: 0.1 },
    target: 1.1,
  },
  {
    name: 'lock instrumentation (uncontended)',
    kernel: 'lock.js',
    profile: { ...OFF, locks: true },
    // What lock instrumentation adds: the same profile with locks off is the baseline (the
    // sampling profile's own cost is the first row's).
    baseline: { ...OFF },
    target: 1.05,
  },
];

async function plainRun(file: string, env: Record<string, string>): Promise<Timing> {
  const t = await timeProgram({
    node: process.execPath,
    file,
    args: [],
    cwd: root,
    env,
    timeoutSec: 600,
  });
  if (t.exitCode !== 0) throw new Error(`${file} exited with ${t.exitCode}: ${t.stderrTail}`);
  return { wallMs: t.wallMs, computeMs: t.computeMs };
}

async function profiledRun(file: string, env: Record<string, string>, opts: Partial<ProfileOptions>): Promise<Timing> {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-bench-'));
  let out = '';
  try {
    const t0 = process.hrtime.bigint();
    const r = await runProgram(
      {
        file,
        args: [],
        cwd: root,
        env,
        node: process.execPath,
        timeoutSec: 600,
        onStdout: (c) => (out += c.toString()),
        onStderr: () => {},
        ...opts,
      },
      join(dir, 'run'),
    );
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.outcome.exitCode !== 0) throw new Error(`${file} under the profiler: ${r.outcome.outcome} ${r.outcome.stderrTail}`);
    const m = /compute-ms:\s*([0-9.]+)/.exec(out);
    return { wallMs, computeMs: m ? Number(m[1]) : null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median and spread of a list, formatted "1234 ms ±5%". */
function stat(xs: number[]): { med: number; text: string } {
  const med = median(xs);
  return {
    med,
    text: `${med.toFixed(0)} ms ±${(spread(xs) * 50).toFixed(0)}%`,
  };
}

interface Row {
  name: string;
  kernel: string;
  plain: string;
  profiled: string;
  /** Median over the adjacent (plain, profiled) pairs of profiled / plain: cancels slow drift. */
  ratio: number;
  /** Half the spread of those pair ratios: how much to trust the ratio. */
  ratioNoise: number;
  computeRatio: number | null;
  target: number;
}

async function compare(c: Comparison): Promise<Row> {
  const file = join(__dirname, 'kernels', c.kernel);
  const env = c.env ?? {};
  const plain: Timing[] = [];
  const prof: Timing[] = [];
  const base = (): Promise<Timing> => (c.baseline ? profiledRun(file, env, c.baseline) : plainRun(file, env));
  await base(); // warm the file cache so the first pair is not penalised
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which side goes first so drift of the machine hits both alike.
    if (i % 2 === 0) {
      plain.push(await base());
      prof.push(await profiledRun(file, env, c.profile));
    } else {
      prof.push(await profiledRun(file, env, c.profile));
      plain.push(await base());
    }
    process.stderr.write(`  ${c.name}: round ${i + 1}/${ROUNDS}\r`);
  }
  const p = stat(plain.map((t) => t.wallMs));
  const q = stat(prof.map((t) => t.wallMs));
  const pc = plain.every((t) => t.computeMs !== null) ? median(plain.map((t) => t.computeMs!)) : null;
  const qc = prof.every((t) => t.computeMs !== null) ? median(prof.map((t) => t.computeMs!)) : null;
  const pairs = prof.map((t, i) => t.wallMs / plain[i]!.wallMs);
  const pcPairs = pc !== null && qc !== null ? prof.map((t, i) => t.computeMs! / plain[i]!.computeMs!) : [];
  return {
    name: c.baseline ? `${c.name} (baseline: profiled without it)` : c.name,
    kernel: c.kernel,
    plain: p.text + (pc !== null ? ` (compute ${pc.toFixed(0)})` : ''),
    profiled: q.text + (qc !== null ? ` (compute ${qc.toFixed(0)})` : ''),
    ratio: median(pairs),
    ratioNoise: spread(pairs) / 2,
    computeRatio: pcPairs.length === ROUNDS ? median(pcPairs) : null,
    target: c.target,
  };
}

/** Time from the program's exit to report.json (and every export) written, for a one-second program. */
async function exitToReport(): Promise<{ text: string; med: number }> {
  const file = join(__dirname, 'kernels', 'oneSecond.js');
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'parprof-bench-'));
    try {
      const r = await runProgram(
        {
          file,
          args: [],
          cwd: root,
          node: process.execPath,
          onStdout: () => {},
          onStderr: () => {},
        },
        join(dir, 'run'),
      );
      const report = analyseRunDir(join(dir, 'run'));
      writeOutputs(report, dir);
      const doneUs = Number(process.hrtime.bigint() / 1000n);
      times.push((doneUs - r.outcome.endedUs) / 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    process.stderr.write(`  exit → report: round ${i + 1}/${ROUNDS}\r`);
  }
  const s = stat(times);
  return { text: s.text, med: s.med };
}

/** Runs another engineer's bench script and returns its output lines (or why it did not run). */
function runScript(name: string): string[] {
  const path = join(__dirname, name);
  if (!existsSync(path)) return [`${name}: not present`];
  const r = spawnSync(process.execPath, ['--import', 'tsx', path], {
    cwd: root,
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  const lines = (r.stdout ?? '').trim().split('\n').filter(Boolean);
  if (r.status !== 0) lines.push(`${name} exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}`);
  return lines;
}

function machine(): string[] {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux
  }
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
  return [
    `- machine: ${availableParallelism()} cores (nproc), ${model}`,
    `- node ${process.version}, ${process.platform}-${process.arch}`,
    `- date: ${new Date().toISOString()}`,
    `- load average at the end (1 / 5 / 15 min): ${load}`,
  ];
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0]!;
  const rows: Row[] = [];
  for (const c of COMPARISONS) {
    if (ONLY && !c.name.includes(ONLY)) continue;
    process.stderr.write(`bench: ${c.name} (${c.kernel})\n`);
    rows.push(await compare(c));
  }
  const exit = !ONLY || 'exit'.includes(ONLY) ? await exitToReport() : null;
  const lint = flag('no-lint') || ONLY ? [] : runScript('lint.ts');
  const timeline = flag('no-timeline') || ONLY ? [] : runScript('timeline.ts');

  const lines: string[] = [];
  lines.push('| benchmark | kernel | plain node (or baseline) | profiled | ratio (wall) | ratio (compute) | target | |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const best = Math.min(r.ratio, r.computeRatio ?? Infinity);
    const ok = (best <= r.target ? 'met' : 'missed') + (r.ratioNoise > 0.1 ? ' (noisy)' : '');
    lines.push(
      `| ${r.name} | ${r.kernel} | ${r.plain} | ${r.profiled} | ${r.ratio.toFixed(2)}× ±${(r.ratioNoise * 100).toFixed(0)}% | ${r.computeRatio === null ? '-' : `${r.computeRatio.toFixed(2)}×`} | ≤ ${r.target}× | ${ok} |`,
    );
  }
  if (exit)
    lines.push(`| program exit → report written | oneSecond.js | | ${exit.text} | | | ≤ 500 ms | ${exit.med <= 500 ? 'met' : 'missed'} |`);
  const body = [
    `Median of ${ROUNDS} alternating runs each; ±x% is half the spread (max − min) / median. Ratios are the`,
    'median of the per-pair ratios (each profiled run against the plain run next to it). "met" when the wall',
    'or the compute ratio is within target (the compute ratio leaves out Node and profiler start-up);',
    '"(noisy)" when the pair ratios spread by more than ±10%: the machine was too busy for that row to decide.',
    '',
    ...lines,
    '',
    ...(lint.length ? ['Atomics lint (bench/lint.ts):', '', ...lint.map((l) => `    ${l}`), ''] : []),
    ...(timeline.length ? ['Timeline at scale (bench/timeline.ts):', '', ...timeline.map((l) => `    ${l}`), ''] : []),
    'Where the overhead goes (the profiler run on itself): see bench/PROFILING.md.',
    '',
    ...machine(),
    `- load average at the start: ${startLoad.toFixed(1)}`,
  ];
  process.stdout.write('\n' + body.join('\n') + '\n');
  if (!flag('no-write') && !ONLY) {
    writeFileSync(
      join(__dirname, 'RESULTS.md'),
      ['# Benchmark results', '', 'Written by `npm run bench` (bench/run.ts).', '', ...body, ''].join('\n'),
    );
    process.stderr.write('bench: wrote bench/RESULTS.md\n');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
