import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { runScaling, median } from '../../src/core/scaling';
import { parseScaleArgs, formatScaling } from '../../src/cli/scale';
import { UserError } from '../../src/core/api';
import type { ScalingProgress } from '../../src/protocol/scaling';

const fixture = join(__dirname, '../fixtures/scaling/serialFraction.js');
const SLEEP = { MODE: 'sleep', SERIAL_SHARE: '0.3' };

test('the Amdahl fit recovers the serial fraction built into a program', { timeout: 120_000 }, async (t) => {
  // Node's own start-up and exit are serial too: measure them with an empty program run
  // the same way, and count them in the built-in serial part.
  const empty = await runScaling({
    file: fixture,
    args: [],
    env: { ...SLEEP, TOTAL_MS: '0' },
    workers: [1],
    repeat: 3,
    variable: { mode: 'env', name: 'WORKERS' },
  });
  const overheadMs = empty.rows[0]!.medianMs;
  const totalMs = 1500;
  const expected = (0.3 * totalMs + overheadMs) / (totalMs + overheadMs);

  const progress: ScalingProgress[] = [];
  const r = await runScaling({
    file: fixture,
    args: [],
    env: { ...SLEEP, TOTAL_MS: String(totalMs) },
    workers: [1, 2, 4],
    repeat: 3,
    variable: { mode: 'arg', template: '--workers={n}' },
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(
    r.rows.map((row) => row.workers),
    [1, 2, 4],
  );
  assert.equal(progress.length, 9);
  assert.deepEqual(
    progress.map((p) => p.index),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  for (const row of r.rows) {
    assert.equal(row.runs.length, 3);
    for (const run of row.runs) {
      assert.equal(run.exitCode, 0);
      assert.ok(run.computeMs! > 0, 'the program printed its compute time');
    }
  }
  // The program's own compute times leave out Node's start-up: the built-in 0.3, plus message
  // latency to the workers, which a loaded machine stretches.
  const c = r.computeSerialFraction!;
  assert.ok(Math.abs(c.value - 0.3) < 0.1, `compute-time fit ${c.value.toFixed(3)}, built in 0.3`);
  assert.ok(c.low <= c.value && c.value <= c.high);
  const f = r.serialFraction!;
  assert.ok(f.low <= f.value && f.value <= f.high);
  const overheadSpread = empty.rows[0]!.spread;
  if (overheadSpread > 0.3 || overheadMs > 500 || loadavg()[0]! > availableParallelism()) {
    // Other processes own the cores: Node and thread start-up take seconds and vary by more
    // than the signal, so wall times say nothing; the compute-time fit above is the check.
    t.diagnostic(
      `wall-time fit ${f.value.toFixed(3)} not checked: empty program took ${overheadMs.toFixed(0)} ms ±${(overheadSpread * 50).toFixed(0)}%`,
    );
  } else {
    assert.ok(
      Math.abs(f.value - expected) < 0.08,
      `fitted ${f.value.toFixed(3)}, built in ${expected.toFixed(3)} (overhead ${overheadMs.toFixed(0)} ms)`,
    );
    // Speedup at 2 and 4 follows Amdahl's law for that fraction (loosely: it is one run's noise).
    const s2 = r.rows[1]!.speedup!;
    const s4 = r.rows[2]!.speedup!;
    assert.ok(s2 > 1.2 && s4 > s2, `speedups ${s2} ${s4}`);
    assert.ok(Math.abs(r.rows[2]!.karpFlatt! - expected) < 0.12, `Karp–Flatt ${r.rows[2]!.karpFlatt}`);
  }
  assert.equal(r.rows[0]!.speedup, 1);
  assert.deepEqual(
    r.gustafson.map((g) => g.workers),
    [1, 2, 4],
  );
  assert.equal(r.gustafson[2]!.scaledSpeedup, 4 - f.value * 3);
  assert.equal(r.cores, availableParallelism());
  const text = formatScaling(r);
  assert.match(text, /Amdahl fit: serial fraction [01]\.\d{3} \(95% CI/);
  assert.match(text, /on the program's own compute times: 0\.\d{3}/);
  assert.match(text, /--workers=p/);
});

test('counts above the core count carry a note, and cancelling keeps finished rows', { timeout: 30_000 }, async () => {
  const ac = new AbortController();
  const cores = availableParallelism();
  const r = await runScaling({
    file: fixture,
    args: [],
    env: { ...SLEEP, TOTAL_MS: '50' },
    workers: [1, cores + 1],
    repeat: 5,
    variable: { mode: 'env', name: 'WORKERS' },
    onProgress: (p) => {
      if (p.index === 3) ac.abort();
    },
    signal: ac.signal,
  });
  assert.equal(r.cancelled, true);
  assert.match(r.warnings.join('\n'), new RegExp(`${cores + 1} exceed the ${cores} cores`));
  assert.match(r.warnings.join('\n'), /Cancelled/);
  assert.equal(r.rows.length, 2);
  assert.equal(r.rows[0]!.runs.length, 1);
  assert.ok(r.rows[0]!.medianMs > 0 && median(r.rows[0]!.runs.map((x) => x.wallMs)) === r.rows[0]!.medianMs);
});

test('a failing run is reported with its exit code and stderr, not hidden', { timeout: 30_000 }, async () => {
  const r = await runScaling({
    file: fixture,
    args: [],
    env: { ...SLEEP, TOTAL_MS: '50', FAIL_AT: '2' },
    workers: [1, 2],
    repeat: 1,
    variable: { mode: 'env', name: 'WORKERS' },
  });
  assert.equal(r.rows[0]!.runs[0]!.exitCode, 0);
  assert.equal(r.rows[1]!.runs[0]!.exitCode, 3);
  assert.match(r.warnings.join('\n'), /2 workers exited with code 3: refusing to run with 2 workers/);
  assert.equal(r.serialFraction, null, 'no fit from one good count');
  await assert.rejects(
    runScaling({
      file: 'no/such/file.js',
      args: [],
      variable: { mode: 'env', name: 'W' },
    }),
    (e: unknown) => e instanceof UserError && /no such file/.test(e.message),
  );
});

test('parprof scale parses counts, the variable and program arguments', () => {
  const { opts, json } = parseScaleArgs(['app.js', '--workers', '1,2,8', '--arg', '--threads={n}', '--repeat', '5', '--json', '--', '-x']);
  assert.equal(json, true);
  assert.deepEqual(opts.workers, [1, 2, 8]);
  assert.deepEqual(opts.variable, { mode: 'arg', template: '--threads={n}' });
  assert.equal(opts.repeat, 5);
  assert.deepEqual(opts.args, ['-x']);
  assert.deepEqual(parseScaleArgs(['app.js']).opts.variable, {
    mode: 'env',
    name: 'WORKERS',
  });
  for (const bad of [
    ['app.js', '--workers', '1,x'],
    ['app.js', '--arg', 'nope'],
    ['app.js', '--env', 'A', '--arg', '{n}'],
    ['--repeat', '0', 'a.js'],
    [],
  ])
    assert.throws(() => parseScaleArgs(bad), UserError, bad.join(' '));
});

test('with profile, each count is also profiled once and its report can be opened', { timeout: 120_000 }, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'parprof-scale-'));
  try {
    const r = await runScaling({
      file: fixture,
      args: [],
      env: { ...SLEEP, TOTAL_MS: '200' },
      workers: [1, 2],
      repeat: 1,
      profile: true,
      outDir,
      variable: { mode: 'env', name: 'WORKERS' },
    });
    assert.equal(r.outDir, outDir);
    for (const row of r.rows) {
      const profiled = row.runs.filter((x) => x.profiled);
      assert.equal(profiled.length, 1);
      assert.equal(profiled[0]!.outDir, join(outDir, `w${row.workers}`));
      const report = JSON.parse(readFileSync(join(profiled[0]!.outDir!, 'report.json'), 'utf8'));
      assert.equal(report.threads.length, 1 + row.workers, 'main plus one thread per worker');
      assert.ok(row.efficiencyTree, 'the row carries the efficiency breakdown of its profiled run');
      assert.equal(row.runs.length, 2, 'one timed run plus the profiled one');
    }
    assert.match(formatScaling(r), /load bal/);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
