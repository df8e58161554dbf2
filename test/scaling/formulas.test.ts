import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  amdahlSpeedup,
  efficiency,
  fitAmdahl,
  gustafsonSpeedup,
  karpFlatt,
  median,
  speedup,
  spread,
  tQuantile95,
} from '../../src/core/scaling/formulas';
import { buildRows, defaultWorkerCounts } from '../../src/core/scaling';
import type { ScalingRun } from '../../src/protocol/scaling';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('speedup, efficiency and Karp–Flatt match hand-computed values', () => {
  // T1 = 100, T4 = 40: S = 2.5, E = 0.625, e = (0.4 − 0.25) / 0.75 = 0.2.
  const s = speedup(100, 40);
  close(s, 2.5);
  close(efficiency(s, 4), 0.625);
  close(karpFlatt(s, 4)!, 0.2);
  // T1 = 100, T2 = 60: S = 5/3, e = (0.6 − 0.5) / 0.5 = 0.2.
  close(karpFlatt(speedup(100, 60), 2)!, 0.2);
  assert.equal(karpFlatt(1, 1), null);
  // Perfect scaling has no serial fraction; superlinear gives a negative one.
  close(karpFlatt(8, 8)!, 0);
  assert.ok(karpFlatt(9, 8)! < 0);
});

test("Amdahl's and Gustafson's laws match hand-computed values", () => {
  close(amdahlSpeedup(0.2, 4), 2.5); // 1 / (0.2 + 0.2)
  close(amdahlSpeedup(0, 16), 16);
  close(amdahlSpeedup(1, 16), 1);
  close(gustafsonSpeedup(0.2, 4), 3.4); // 4 − 0.2·3
  close(gustafsonSpeedup(0.1, 1), 1);
});

test('median and spread', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  close(spread([90, 100, 110]), 0.2);
  assert.equal(spread([5]), 0);
  assert.throws(() => median([]));
});

test('the Amdahl fit recovers an exact serial fraction and its interval shrinks to it', () => {
  // T(p) = 1000·(0.25 + 0.75/p): 1000, 625, 437.5, 343.75.
  const samples = [1, 2, 4, 8].flatMap((p) => [0, 1].map(() => ({ workers: p, ms: 1000 * (0.25 + 0.75 / p) })));
  const fit = fitAmdahl(samples)!;
  close(fit.value, 0.25);
  close(fit.t1Ms, 1000, 1e-6);
  close(fit.low, 0.25, 1e-9);
  close(fit.high, 0.25, 1e-9);
  close(fit.r2!, 1);
});

test('the Amdahl fit of noisy runs has a 95% interval around the hand-computed least-squares value', () => {
  // Counts 1 and 2, two runs each: means 1000 and 600 → a + b = 1000, a + b/2 = 600 → b = 800, a = 200, f = 0.2.
  const fit = fitAmdahl([
    { workers: 1, ms: 990 },
    { workers: 1, ms: 1010 },
    { workers: 2, ms: 590 },
    { workers: 2, ms: 610 },
  ])!;
  close(fit.value, 0.2, 1e-9);
  // Residuals ±10 → SSE 400, dof 2, s² 200; x = 1, 1, .5, .5: mx .75, Sxx .25.
  // var b = 800, var a = 200·(1/4 + .5625/.25) = 500, cov = −.75·200/.25 = −600.
  // ∂f/∂a = 8e-4, ∂f/∂b = −2e-4 → var f = 6.4e-7·500 + 4e-8·800 + 2·(−1.6e-7)·(−600) = 5.44e-4.
  const half = tQuantile95(2) * Math.sqrt(5.44e-4);
  close(half, 0.10036, 1e-4);
  close(fit.low, 0.2 - half, 1e-9);
  close(fit.high, 0.2 + half, 1e-9);
  assert.ok(fit.low < 0.2 && fit.high > 0.2);
});

test('the Amdahl fit needs two counts, and has no interval without residual freedom', () => {
  assert.equal(
    fitAmdahl([
      { workers: 2, ms: 5 },
      { workers: 2, ms: 6 },
    ]),
    null,
  );
  const fit = fitAmdahl([
    { workers: 1, ms: 100 },
    { workers: 2, ms: 60 },
  ])!;
  close(fit.value, 0.2);
  assert.equal(fit.low, 0);
  assert.equal(fit.high, 1);
});

test('rows carry median, spread, speedup, efficiency and Karp–Flatt per count', () => {
  const run = (ms: number, exitCode = 0): ScalingRun => ({
    wallMs: ms,
    outDir: null,
    exitCode,
  });
  const warnings: string[] = [];
  const rows = buildRows(
    [1, 2, 4],
    new Map([
      [1, [run(100), run(110), run(90)]],
      [2, [run(60), run(58), run(999, 1), run(62)]],
      [4, [run(40), run(40), run(40), { wallMs: 500, outDir: '/x', exitCode: 0, profiled: true }]],
    ]),
    new Map(),
    warnings,
  );
  assert.deepEqual(
    rows.map((r) => r.medianMs),
    [100, 60, 40],
  );
  close(rows[0]!.spread, 0.2);
  close(rows[1]!.speedup!, 100 / 60);
  close(rows[2]!.efficiency!, 0.625);
  close(rows[2]!.karpFlatt!, 0.2);
  assert.equal(rows[0]!.karpFlatt, null);
  assert.equal(rows[2]!.runs.length, 4, 'the profiled run is listed but not timed');
});

test('default counts go up to the core count', () => {
  assert.deepEqual(defaultWorkerCounts(2), [1, 2]);
  assert.deepEqual(defaultWorkerCounts(6), [1, 2, 4, 6]);
  assert.deepEqual(defaultWorkerCounts(8), [1, 2, 4, 8]);
  assert.deepEqual(defaultWorkerCounts(1), [1]);
});
