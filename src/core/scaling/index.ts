/**
 * The scaling lab: run one program at several worker counts, N times each, and compute
 * speedup, efficiency, Karp–Flatt, the Amdahl fit and Gustafson's scaled speedup.
 * Timed runs are plain `node` (no profiler); with `profile` each count is also profiled once
 * so the user can open that run's full report.
 */
import { availableParallelism } from 'node:os';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProfileOptions, ProfileResult } from '../api';
import { UserError } from '../api';
import { prepareOutDir } from '../outputs';
import {
  SCALING_SCHEMA,
  type ScalingProgress,
  type ScalingRequest,
  type ScalingResult,
  type ScalingRow,
  type ScalingRun,
} from '../../protocol/scaling';
import { efficiency, fitAmdahl, gustafsonPoints, karpFlatt, median, speedup, spread } from './formulas';
import { timeProgram } from './timedRun';

export * from './formulas';

/** Options of runScaling: the plain request plus cancel, progress and program output. */
export interface ScalingOptions extends ScalingRequest {
  signal?: AbortSignal;
  onProgress?: (p: ScalingProgress) => void;
  /** Program output of every run (default: discarded, the last stderr lines go into warnings). */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Profiles one run (default: the core's profileProgram). Injected by tests and the bench. */
  profileProgram?: (opts: ProfileOptions) => Promise<ProfileResult>;
}

/** Worker counts 1, 2, 4, … up to the machine's cores, and the core count itself. */
export function defaultWorkerCounts(cores = availableParallelism()): number[] {
  const out: number[] = [];
  for (let p = 1; p < cores; p *= 2) out.push(p);
  out.push(cores);
  return out;
}

/** The program arguments and environment for one worker count. */
export function argsFor(req: ScalingRequest, workers: number): { args: string[]; env: Record<string, string> } {
  const env = { ...req.env };
  if (req.variable.mode === 'env')
    return {
      args: [...req.args],
      env: { ...env, [req.variable.name]: String(workers) },
    };
  return {
    args: [...req.args, req.variable.template.replaceAll('{n}', String(workers))],
    env,
  };
}

/** Runs the scaling experiment; cancelling keeps the rows that finished. */
export async function runScaling(opts: ScalingOptions): Promise<ScalingResult> {
  const cwd = opts.cwd ?? process.cwd();
  const file = resolve(cwd, opts.file);
  if (!existsSync(file)) throw new UserError(`${opts.file}: no such file`);
  if (statSync(file).isDirectory()) throw new UserError(`${opts.file} is a directory, not a program file`);
  const cores = availableParallelism();
  const counts = [...new Set(opts.workers ?? defaultWorkerCounts(cores))].sort((a, b) => a - b);
  if (counts.length === 0 || counts.some((p) => !Number.isInteger(p) || p < 1))
    throw new UserError('worker counts must be positive whole numbers, e.g. --workers 1,2,4');
  const repeat = opts.repeat ?? 3;
  if (!Number.isInteger(repeat) || repeat < 1) throw new UserError('--repeat must be a positive whole number');
  if (opts.variable.mode === 'arg' && !opts.variable.template.includes('{n}'))
    throw new UserError(`the argument template "${opts.variable.template}" has no {n} for the worker count`);

  const warnings: string[] = [];
  const over = counts.filter((p) => p > cores);
  if (over.length)
    warnings.push(
      `Worker counts ${over.join(', ')} exceed the ${cores} cores of this machine: those times measure oversubscription, not scaling.`,
    );
  const outDir = opts.profile ? resolve(cwd, opts.outDir ?? join('.parprof', `scale-${stamp()}`)) : null;
  // Said now, not after every timed run has gone by.
  if (outDir) prepareOutDir(outDir, opts.outDir ?? outDir);
  const runs = new Map<number, ScalingRun[]>(counts.map((p) => [p, []]));
  const total = counts.length * repeat + (opts.profile ? counts.length : 0);
  let index = 0;
  let cancelled = false;
  const trees = new Map<number, ScalingRow['efficiencyTree']>();

  // Interleave the counts (round r of every count, then round r + 1) so slow drift of the
  // machine spreads over all counts instead of biasing one.
  outer: for (let r = 1; r <= repeat; r++) {
    for (const p of counts) {
      if (opts.signal?.aborted) {
        cancelled = true;
        break outer;
      }
      index++;
      opts.onProgress?.({
        index,
        total,
        workers: p,
        repetition: r,
        profiled: false,
        message: `${p} worker${p === 1 ? '' : 's'}, run ${r} of ${repeat}`,
      });
      const { args, env } = argsFor(opts, p);
      const t = await timeProgram({
        node: opts.node ?? 'node',
        file,
        args,
        cwd,
        env,
        signal: opts.signal,
        timeoutSec: opts.timeoutSec ?? null,
        onStdout: opts.onStdout,
        onStderr: opts.onStderr,
      });
      if (t.cancelled) {
        cancelled = true;
        break outer;
      }
      if (t.exitCode !== 0)
        warnings.push(
          `The run with ${p} workers exited with ${t.timedOut ? 'a timeout' : `code ${t.exitCode}`}${t.stderrTail ? `: ${t.stderrTail}` : ''}.`,
        );
      runs.get(p)!.push({
        wallMs: t.wallMs,
        outDir: null,
        exitCode: t.exitCode,
        computeMs: t.computeMs,
      });
    }
  }
  if (opts.profile && !cancelled) {
    const profile = opts.profileProgram ?? (await defaultProfiler());
    for (const p of counts) {
      if (opts.signal?.aborted) {
        cancelled = true;
        break;
      }
      index++;
      opts.onProgress?.({
        index,
        total,
        workers: p,
        repetition: repeat + 1,
        profiled: true,
        message: `${p} worker${p === 1 ? '' : 's'}, profiling`,
      });
      const { args, env } = argsFor(opts, p);
      const dir = join(outDir!, `w${p}`);
      const t0 = performance.now();
      try {
        const res = await profile({
          file,
          args,
          cwd,
          env,
          node: opts.node,
          outDir: dir,
          signal: opts.signal,
          timeoutSec: opts.timeoutSec ?? null,
          onStdout: opts.onStdout ?? (() => {}),
          onStderr: opts.onStderr ?? (() => {}),
        });
        runs.get(p)!.push({
          wallMs: res.report.wallMs ?? performance.now() - t0,
          outDir: res.outDir,
          exitCode: res.report.program.exitCode,
          profiled: true,
          computeMs: null,
        });
        trees.set(p, res.report.metrics.efficiencyTree ?? null);
        if (res.report.program.outcome === 'cancelled') cancelled = true;
      } catch (err) {
        if (err instanceof UserError) throw err;
        warnings.push(`Profiling the run with ${p} workers failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  const rows = buildRows(counts, runs, trees, warnings);
  const samples = rows.flatMap((row) => timedOk(row.runs).map((r) => ({ workers: row.workers, ms: r.wallMs })));
  const fit = fitAmdahl(samples);
  const timed = rows.flatMap((row) =>
    timedOk(row.runs).map((r) => ({
      workers: row.workers,
      ms: r.computeMs ?? NaN,
    })),
  );
  const computeFit = timed.length && timed.every((x) => Number.isFinite(x.ms)) ? fitAmdahl(timed) : null;
  if (!fit && !cancelled) warnings.push('The Amdahl fit needs successful runs at two or more worker counts.');
  if (cancelled) warnings.push('Cancelled: the results hold the runs that finished.');
  return {
    schema: SCALING_SCHEMA,
    file,
    args: opts.args,
    variable: opts.variable,
    repeat,
    cores,
    rows,
    serialFraction: fit,
    computeSerialFraction: computeFit,
    gustafson: fit ? gustafsonPoints(fit.value, counts) : [],
    warnings,
    cancelled,
    outDir,
  };
}

/** Timed (unprofiled) runs that exited cleanly. */
function timedOk(runs: ScalingRun[]): ScalingRun[] {
  return runs.filter((r) => !r.profiled && r.exitCode === 0);
}

/** Per-count statistics; speedup is relative to the 1-worker median. */
export function buildRows(
  counts: number[],
  runs: Map<number, ScalingRun[]>,
  trees: Map<number, ScalingRow['efficiencyTree']>,
  warnings: string[],
): ScalingRow[] {
  const rows: ScalingRow[] = [];
  for (const p of counts) {
    const all = runs.get(p) ?? [];
    const ok = timedOk(all);
    const timed = ok.length ? ok : all.filter((r) => !r.profiled);
    if (!timed.length) continue;
    const ms = timed.map((r) => r.wallMs);
    const row: ScalingRow = {
      workers: p,
      runs: all,
      medianMs: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      spread: spread(ms),
      speedup: null,
      efficiency: null,
      karpFlatt: null,
    };
    if (trees.has(p)) row.efficiencyTree = trees.get(p) ?? null;
    if (row.spread > 0.2 && ms.length > 1)
      warnings.push(
        `Times at ${p} workers vary by ${Math.round(row.spread * 100)}% between runs: the machine is noisy; use --repeat for more runs.`,
      );
    rows.push(row);
  }
  const base = rows.find((r) => r.workers === 1 && timedOk(r.runs).length > 0);
  if (!base && rows.length) warnings.push('No successful 1-worker run: speedup, efficiency and Karp–Flatt need --workers to include 1.');
  for (const row of rows) {
    if (!base) break;
    const s = speedup(base.medianMs, row.medianMs);
    row.speedup = s;
    row.efficiency = efficiency(s, row.workers);
    row.karpFlatt = karpFlatt(s, row.workers);
  }
  return rows;
}

async function defaultProfiler(): Promise<(opts: ProfileOptions) => Promise<ProfileResult>> {
  return (await import('../index')).profileProgram;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
