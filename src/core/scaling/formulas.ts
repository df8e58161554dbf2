/**
 * The measures of parallel computing, as pure functions: speedup, efficiency, Karp–Flatt,
 * a least-squares Amdahl fit with a confidence interval, Gustafson scaled speedup.
 */
import type { GustafsonPoint, SerialFractionFit } from '../../protocol/scaling';

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Spread of repeated timings: (max − min) / median, 0 for a single value. */
export function spread(xs: readonly number[]): number {
  const m = median(xs);
  return m > 0 ? (Math.max(...xs) - Math.min(...xs)) / m : 0;
}

/** Speedup S(p) = T(1) / T(p). */
export function speedup(t1: number, tp: number): number {
  return t1 / tp;
}

/** Parallel efficiency E(p) = S(p) / p. */
export function efficiency(s: number, p: number): number {
  return s / p;
}

/** Karp–Flatt experimentally determined serial fraction e = (1/S − 1/p) / (1 − 1/p); null at p = 1. */
export function karpFlatt(s: number, p: number): number | null {
  if (p <= 1 || !(s > 0)) return null;
  return (1 / s - 1 / p) / (1 - 1 / p);
}

/** Amdahl's law: the speedup bound with serial fraction f on p workers. */
export function amdahlSpeedup(f: number, p: number): number {
  return 1 / (f + (1 - f) / p);
}

/** Gustafson scaled speedup with serial fraction f on p workers: p − f·(p − 1). */
export function gustafsonSpeedup(f: number, p: number): number {
  return p - f * (p - 1);
}

/** Gustafson scaled speedup at each worker count. */
export function gustafsonPoints(f: number, counts: readonly number[]): GustafsonPoint[] {
  return counts.map((p) => ({
    workers: p,
    scaledSpeedup: gustafsonSpeedup(f, p),
  }));
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086,
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The t quantile for a 95% two-sided interval with dof degrees of freedom. */
export function tQuantile95(dof: number): number {
  if (dof < 1) return Infinity;
  return T975[dof - 1] ?? 1.96;
}

/** One timing sample for the fit: wall time at a worker count. */
export interface TimingSample {
  workers: number;
  ms: number;
}

/**
 * Least-squares Amdahl fit over every individual run: T(p) = a + b/p with a = T1·f and
 * b = T1·(1 − f), so f = a / (a + b). The 95% interval comes from the regression's
 * parameter covariance by the delta method; with no residual degrees of freedom it is [0, 1].
 * Returns null with fewer than two distinct worker counts.
 */
export function fitAmdahl(samples: readonly TimingSample[]): SerialFractionFit | null {
  const n = samples.length;
  const xs = samples.map((s) => 1 / s.workers);
  const ys = samples.map((s) => s.ms);
  if (new Set(xs).size < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const b = sxy / sxx;
  const a = my - b * mx;
  const t1 = a + b;
  if (!(t1 > 0)) return null;
  const raw = a / t1;
  const value = clamp01(raw);
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - a - b * xs[i]!) ** 2;
  const r2 = syy > 0 ? 1 - sse / syy : null;
  const dof = n - 2;
  if (dof < 1) return { value, low: 0, high: 1, t1Ms: t1, r2 };
  const s2 = sse / dof;
  // Covariance of (a, b) for simple linear regression.
  const varB = s2 / sxx;
  const varA = s2 * (1 / n + (mx * mx) / sxx);
  const covAB = (-mx * s2) / sxx;
  // f = a / (a + b): ∂f/∂a = b/(a+b)², ∂f/∂b = −a/(a+b)².
  const ga = b / (t1 * t1);
  const gb = -a / (t1 * t1);
  const varF = ga * ga * varA + gb * gb * varB + 2 * ga * gb * covAB;
  const half = tQuantile95(dof) * Math.sqrt(Math.max(0, varF));
  return {
    value,
    low: clamp01(raw - half),
    high: clamp01(raw + half),
    t1Ms: t1,
    r2,
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
