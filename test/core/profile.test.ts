// End to end: real programs run under the real agent (out/agent.js, built by scripts/test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/api';
import { assertValidReport, fnRow, profileFixture, programs } from './helpers';
import { profileProgram } from '../../src/core/index';
import { timeoutMs } from '../../src/core/runner';

const T = { timeout: 180_000 };

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test('exact recursive call counts per thread, thread names and kinds (CJS main + worker)', T, async () => {
  const { report: r, outDir, stdout } = await profileFixture('fib.js');
  assert.match(stdout, /worker fib = 610/, 'the program output passes through');
  assertValidReport(r);
  assert.equal(r.program.outcome, 'exited');
  assert.equal(r.partial, false);
  assert.equal(r.threads.length, 2);
  const worker = r.threads.find((t) => t.kind === 'worker')!;
  assert.deepEqual([r.threads[0]!.name, r.threads[0]!.kind, r.threads[0]!.id], ['main', 'main', 0]);
  assert.deepEqual([worker.name, worker.parentId, worker.complete], ['fib-worker', 0, true]);
  // fib(n) makes 2·F(n+1) − 1 calls: fib(12) → 465 in main, fib(15) → 1973 in the worker.
  const mainFib = fnRow(r, 0, 'fib');
  assert.deepEqual([mainFib.ncalls, mainFib.primitiveCalls, mainFib.line, mainFib.column], [465, 1, 4, 1]);
  const workerFib = fnRow(r, worker.id, 'fib');
  assert.deepEqual([workerFib.ncalls, workerFib.primitiveCalls], [1973, 1]);
  const merged = fnRow(r, -1, 'fib');
  assert.deepEqual([merged.ncalls, merged.primitiveCalls], [2438, 2]);
  assert.ok(r.messages.some((m) => m.fromThreadId === worker.id && m.toThreadId === 0 && m.receivedMs !== null), 'the result message is paired');
  const files = readdirSync(outDir);
  for (const f of ['report.json', 'trace.json', 'pstats.txt', 'report.html']) assert.ok(files.includes(f), `${f} written`);
  assert.equal(files.filter((f) => f.endsWith('.cpuprofile')).length, 2, 'one .cpuprofile per thread');
});

test('time is attributed to spin functions of known length (±20%)', T, async () => {
  const { report: r } = await profileFixture('spin-inline.js');
  assertValidReport(r);
  const long = fnRow(r, 0, 'spinLong');
  const short = fnRow(r, 0, 'spinShort');
  assert.equal(long.ncalls, 1);
  assert.ok(Math.abs(long.cumtimeMs - 300) <= 60, `spinLong cumtime ${long.cumtimeMs} ms ≈ 300`);
  assert.ok(Math.abs(short.cumtimeMs - 100) <= 20, `spinShort cumtime ${short.cumtimeMs} ms ≈ 100`);
  assert.ok(long.tottimeMs <= long.cumtimeMs && long.tottimeMs > 0);
});

test('ESM entry with ESM (URL), CommonJS and eval workers: every thread profiled with exact counts', T, async () => {
  const { report: r } = await profileFixture('esm-main.mjs');
  assertValidReport(r);
  assert.equal(r.program.outcome, 'exited');
  const byName = new Map(r.threads.map((t) => [t.name, t]));
  assert.deepEqual([...byName.keys()].sort(), ['cjs-worker', 'esm-worker', 'eval-worker', 'main']);
  assert.deepEqual([fnRow(r, 0, 'countDown').ncalls, fnRow(r, 0, 'countDown').primitiveCalls], [11, 1]);
  const up = fnRow(r, byName.get('esm-worker')!.id, 'countUp');
  assert.deepEqual([up.ncalls, up.primitiveCalls, up.line], [21, 1, 3]);
  assert.equal(fnRow(r, byName.get('cjs-worker')!.id, 'square').ncalls, 5);
  const tick = fnRow(r, byName.get('eval-worker')!.id, 'tick');
  assert.deepEqual([tick.ncalls, tick.primitiveCalls], [7, 1]);
  for (const t of r.threads) if (t.kind === 'worker') assert.equal(t.parentId, 0);
});

test('a crashing worker: the program goes on, the report names the crash', T, async () => {
  const { report: r, stdout } = await profileFixture('crash-worker.js');
  assertValidReport(r);
  assert.match(stdout, /main saw: worker went boom/);
  assert.equal(r.program.exitCode, 0);
  const w = r.threads.find((t) => t.name === 'crasher')!;
  assert.ok(w, 'the crashed worker has a lane');
  assert.equal(fnRow(r, w.id, 'explode').ncalls, 1);
  assert.ok(r.warnings.some((x) => /crasher.*crashed.*worker went boom/.test(x)), r.warnings.join('\n'));
});

test('cancel ends the whole process tree and keeps a partial report', T, async () => {
  const ac = new AbortController();
  const { report: r } = await profileFixture('hang.js', {
    signal: ac.signal,
    onStdout: (c) => {
      if (c.toString().includes('ready')) setTimeout(() => ac.abort(), 200);
    },
  });
  assertValidReport(r);
  assert.equal(r.program.outcome, 'cancelled');
  assert.equal(r.partial, true);
  assert.match(r.program.error ?? '', /cancelled/);
  assert.ok(r.threads.length >= 1, 'what ran is kept');
  assert.ok(r.threads.some((t) => t.name === 'spinner'), 'the spinning worker has a lane');
  assert.ok(fnRow(r, 0, 'heartbeat').ncalls! >= 1);
  const spinner = r.threads.find((t) => t.name === 'spinner')!;
  assert.ok(fnRow(r, spinner.id, 'forever').tottimeMs > 50, 'the spinning worker\'s profile is kept to the end');
  for (const t of r.threads) assert.ok(processGone(t.pid), `process ${t.pid} is gone`);
});

test('--timeout keeps the profile and counters of a main thread that computes without end', T, async () => {
  const t0 = Date.now();
  const { report: r, stderr } = await profileFixture('spin-forever.js', { timeoutSec: 1.5 });
  assertValidReport(r);
  assert.equal(r.program.outcome, 'timeout');
  // Reached through the inspector the runner opens with SIGUSR1 (the SIGTERM handler never runs).
  assert.ok(r.threads[0]!.cpuMs! > 700, `main cpu ${r.threads[0]!.cpuMs}`);
  assert.ok(fnRow(r, 0, 'forever').tottimeMs + fnRow(r, 0, 'step').tottimeMs > 700);
  assert.ok(fnRow(r, 0, 'step').ncalls! > 100000, `step calls ${fnRow(r, 0, 'step').ncalls}`);
  assert.doesNotMatch(stderr, /Debugger|inspector/, 'Node\'s inspector messages are not the program\'s output');
  assert.ok(Date.now() - t0 < 1500 + 1000 + 5000, 'ended within the grace');
  for (const t of r.threads) assert.ok(processGone(t.pid));
});

test('cluster workers start under the runner and are profiled as their own processes', T, async () => {
  const { report: r, stdout } = await profileFixture(join(__dirname, '..', 'fixtures', 'agent', 'ipc-cluster.js'));
  assertValidReport(r);
  assert.equal(stdout, 'worker says online 1\nworker exit 0\n');
  assert.equal(r.threads.length, 2);
  assert.equal(r.messages.length, 2, 'one message each way');
});

test('a --timeout beyond setTimeout\'s range is no limit, not 1 ms', T, async () => {
  assert.equal(timeoutMs(1e9), 2 ** 31 - 1);
  assert.equal(timeoutMs(3_000_000), 2 ** 31 - 1);
  assert.equal(timeoutMs(2), 2000);
  assert.equal(timeoutMs(0), null);
  assert.equal(timeoutMs(null), null);
  const { report: r } = await profileFixture('fib.js', { timeoutSec: 1e9 });
  assert.equal(r.program.outcome, 'exited');
  assert.equal(r.program.exitCode, 0);
});

test('--timeout stops a program that never ends; the report is partial', T, async () => {
  const { report: r, runDir } = await profileFixture('hang.js', { timeoutSec: 4 });
  assertValidReport(r);
  assert.equal(r.program.outcome, 'timeout');
  assert.equal(r.partial, true);
  assert.ok(existsSync(join(runDir, 'outcome.json')));
  for (const t of r.threads) assert.ok(processGone(t.pid));
});

test('a TypeScript entry runs, with lines of the .ts source', T, async () => {
  const { report: r, stdout } = await profileFixture('typed.ts');
  assertValidReport(r);
  assert.match(stdout, /total area 14/);
  assert.deepEqual([fnRow(r, 0, 'total').line, fnRow(r, 0, 'total').ncalls], [13, 1]);
  assert.deepEqual([fnRow(r, 0, 'area').line, fnRow(r, 0, 'area').ncalls], [8, 3]);
  assert.equal(fnRow(r, 0, 'total').file, join(programs, 'typed.ts'));
});

test('a program that throws at start gives a partial report with one sentence', T, async () => {
  const { report: r } = await profileFixture('throws.js');
  assertValidReport(r);
  assert.equal(r.program.outcome, 'crashed');
  assert.equal(r.partial, true);
  assert.equal(r.program.exitCode, 1);
  assert.match(r.program.error ?? '', /^TypeError: bad config \(at .*throws\.js:3\)$/);
  assert.equal(fnRow(r, 0, 'start').ncalls, 1);
});

test('a syntax error is a UserError naming the error and line', T, async () => {
  await assert.rejects(profileFixture('syntax-error.js'), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /SyntaxError: Unexpected token.*syntax-error\.js:1/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
});

test('bad entry files are refused with one sentence before anything runs', async () => {
  const opts = (file: string) => ({ file, args: [], cwd: programs });
  await assert.rejects(profileProgram(opts('missing.js')), /^UserError: missing\.js: no such file$/);
  await assert.rejects(profileProgram(opts('.')), /is a directory/);
  await assert.rejects(profileProgram(opts('notes.txt')), /not a JavaScript or TypeScript file/);
  await assert.rejects(profileProgram({ ...opts('fib.js'), node: '/nonexistent/node' }), /cannot run "\/nonexistent\/node"/);
});

test('nested workers and a forked process: ids, kinds, parents and per-thread counts', T, async () => {
  const { report: r } = await profileFixture('family.js');
  assertValidReport(r);
  const by = (name: string, kind: string) => r.threads.find((t) => t.name === name && t.kind === kind)!;
  const outer = by('outer', 'worker');
  const inner = by('inner', 'worker');
  const child = r.threads.find((t) => t.kind === 'process')!;
  assert.ok(outer && inner && child, r.threads.map((t) => `${t.id}:${t.name}:${t.kind}`).join(' '));
  assert.equal(r.threads.length, 4);
  assert.equal(outer.parentId, 0);
  assert.equal(inner.parentId, outer.id);
  assert.equal(child.id, 10000, 'threads of the first forked process are numbered from 10000');
  assert.equal(child.parentId, 0);
  assert.notEqual(child.pid, r.threads[0]!.pid);
  assert.equal(child.name, `family.js (pid ${child.pid})`, 'a forked process is named by its entry and pid, not "main"');
  assert.equal(fnRow(r, outer.id, 'leaf').ncalls, 1);
  assert.equal(fnRow(r, inner.id, 'leaf').ncalls, 2);
  assert.equal(fnRow(r, child.id, 'leaf').ncalls, 4);
  assert.equal(fnRow(r, -1, 'leaf').ncalls, 7);
});
