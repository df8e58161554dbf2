/**
 * The scaling lab's result: one program run at several worker counts, N times each.
 * Shared by the core (src/core/scaling), the CLI (`parprof scale --json`), the extension
 * ("Profile Scaling…") and the webview's scaling view. All times are milliseconds.
 * Unknown values are `null`, never a made-up number.
 */
import type { EfficiencyTree } from './report';

/** Current schema version of the scaling result (`parprof scale --json`). */
export const SCALING_SCHEMA = 1;

/** How the worker count reaches the program. */
export type WorkerVariable =
  /** Environment variable NAME=<count>, e.g. WORKERS. */
  | { mode: 'env'; name: string }
  /** Program argument built from a template with `{n}` replaced by the count, e.g. `--threads={n}`. */
  | { mode: 'arg'; template: string };

/** What to run; the part of the options that is plain data (the core adds signal/progress). */
export interface ScalingRequest {
  /** Program entry file (absolute or relative to cwd). */
  file: string;
  /** Program arguments (the `arg` template, if any, is appended after them). */
  args: string[];
  cwd?: string;
  /** Extra environment variables for every run. */
  env?: Record<string, string>;
  /** Worker counts, ascending; default 1, 2, 4, … up to os.availableParallelism(). */
  workers?: number[];
  variable: WorkerVariable;
  /** Timed runs per count (default 3). */
  repeat?: number;
  /** Also profile each count once with the full profiler, so a point can open its report. */
  profile?: boolean;
  /** Where profiled runs write their reports: <outDir>/w<count>/ (default .parprof/scale-<time>). */
  outDir?: string;
  /** node binary (default: `node` on PATH). */
  node?: string;
  /** Kill a run that takes longer than this (seconds); null = no limit. */
  timeoutSec?: number | null;
}

/** One timed execution of the program. */
export interface ScalingRun {
  /** Wall time measured around the program (spawn to exit). */
  wallMs: number;
  /** Report directory when this run was profiled (open it to see the full profile), else null. */
  outDir: string | null;
  exitCode: number | null;
  /** True for the profiled run (its wall time includes profiler overhead and is not in the statistics). */
  profiled?: boolean;
  /** The program's own compute time when it prints `compute-ms: <n>` on stdout, else null. */
  computeMs?: number | null;
}

/** Everything measured at one worker count. */
export interface ScalingRow {
  workers: number;
  /** Every run at this count: the timed plain runs, then the profiled run if any. */
  runs: ScalingRun[];
  /** Median / min / max wall time over the timed (unprofiled, exit code 0) runs. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** (max − min) / median: how noisy this count was. */
  spread: number;
  /** S(p) = T(1) / T(p), with T = the median; null without a 1-worker baseline. */
  speedup: number | null;
  /** E(p) = S(p) / p. */
  efficiency: number | null;
  /** Karp–Flatt e = (1/S − 1/p) / (1 − 1/p); null at p = 1. */
  karpFlatt: number | null;
  /** The efficiency breakdown of the profiled run at this count (with `profile`). */
  efficiencyTree?: EfficiencyTree | null;
}

/** Least-squares Amdahl fit of the serial fraction f in T(p) = T1·(f + (1 − f)/p). */
export interface SerialFractionFit {
  value: number;
  /** 95% confidence interval, clamped to [0, 1]. */
  low: number;
  high: number;
  /** Fitted T1 (ms), so the curve S(p) = 1 / (f + (1 − f)/p) can be drawn against the data. */
  t1Ms: number;
  /** Coefficient of determination of the fit on wall times (1 = perfect). */
  r2: number | null;
}

/** Gustafson scaled speedup at one count: S = p − f·(p − 1), with f the fitted serial fraction. */
export interface GustafsonPoint {
  workers: number;
  scaledSpeedup: number;
}

/** The whole scaling experiment. */
export interface ScalingResult {
  schema: typeof SCALING_SCHEMA;
  file: string;
  args: string[];
  variable: WorkerVariable;
  repeat: number;
  /** os.availableParallelism() of the machine that ran it. */
  cores: number;
  rows: ScalingRow[];
  /** The Amdahl fit; null when fewer than two counts produced times. */
  serialFraction: SerialFractionFit | null;
  /** The same fit on the program's own compute times (`compute-ms: N` lines), which leave out
   *  Node's start-up and exit; null when the program does not print them. */
  computeSerialFraction?: SerialFractionFit | null;
  gustafson: GustafsonPoint[];
  /** Sentences the user should see (counts above cores, failed runs, noisy counts…). */
  warnings: string[];
  /** True when the experiment was cancelled; rows hold what finished. */
  cancelled: boolean;
  /** Where profiled runs were written, or null. */
  outDir: string | null;
}

/** Progress of a scaling experiment, one event per run started. */
export interface ScalingProgress {
  /** 1-based index of the run now starting, out of total. */
  index: number;
  total: number;
  workers: number;
  /** 1-based repetition at this count; the profiled run is repeat + 1. */
  repetition: number;
  profiled: boolean;
  message: string;
}
