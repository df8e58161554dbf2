import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyseRun, analyseRunDir } from '../../src/core/analyse';
import { loadRun, resolveSite } from '../../src/core/load';
import { AtomOp, WaitResult } from '../../src/protocol/events';
import { ThreadState, type FunctionRow, type Report } from '../../src/protocol/report';
import { atoms, run, shareBuffer, thread, type Atom } from '../races/runBuilder';

const runs = join(__dirname, '..', 'fixtures', 'core', 'runs');

function row(r: Report, threadId: number, name: string): FunctionRow {
  const f = r.functions.find((x) => x.threadId === threadId && x.name === name);
  assert.ok(f, `no row ${name} in thread ${threadId}: ${r.functions.map((x) => `${x.threadId}:${x.name}`).join(', ')}`);
  return f;
}

test('loads every thread of a run directory with its records', () => {
  const run = loadRun(join(runs, 'basic'));
  assert.deepEqual(
    run.threads.map((t) => [t.id, t.key, t.info.kind]),
    [
      [0, '100:0', 'main'],
      [1, '100:1', 'worker'],
    ],
  );
  assert.equal(run.originUs, 1_000_000);
  const main = run.threads[0]!;
  assert.equal(main.counts.get(1)!.ncalls[1], 177, 'the last counts record wins');
  assert.equal(main.complete, true);
  assert.deepEqual(resolveSite(main, 2 ** 20 + 0), { file: '/app/main.js', line: 12, column: 3 });
  assert.equal(resolveSite(main, 0), null);
});

test('ncalls, primitive calls, tottime and cumtime per thread (recursion counted once per sample)', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  const fib = row(r, 0, 'fib');
  assert.equal(fib.ncalls, 177);
  assert.equal(fib.primitiveCalls, 1);
  assert.equal(fib.tottimeMs, 4);
  assert.equal(fib.cumtimeMs, 5);
  assert.equal(fib.file, '/app/main.js');
  assert.equal(fib.line, 5);
  assert.equal(fib.column, 1);
  const main = row(r, 0, 'main');
  assert.deepEqual([main.ncalls, main.tottimeMs, main.cumtimeMs], [1, 1, 6]);
  const helper = row(r, 0, 'helper');
  assert.deepEqual([helper.ncalls, helper.primitiveCalls, helper.tottimeMs, helper.cumtimeMs], [2, 2, 0, 0], 'counted but never sampled');
  const rf = row(r, 0, 'readFileSync');
  assert.deepEqual([rf.ncalls, rf.file, rf.line, rf.column, rf.tottimeMs], [null, 'node:fs', 441, 21, 1], 'unmapped frames keep V8 positions, 1-based');
  assert.equal(row(r, 0, '(garbage collector)').tottimeMs, 1);
  assert.ok(!r.functions.some((f) => f.name === '(idle)'), 'idle is not a function');
  const spin = row(r, 1, 'spin');
  assert.deepEqual([spin.ncalls, spin.tottimeMs, spin.cumtimeMs], [3, 11, 11]);
  const callee = (f: FunctionRow) => (f.callees ?? []).map((e) => [r.functions[e.fn]!.name, e.timeMs]);
  assert.deepEqual(callee(main), [['fib', 5]], 'call edges carry the inclusive time along the edge');
  assert.deepEqual((fib.callers ?? []).map((e) => [r.functions[e.fn]!.name, e.timeMs]), [['main', 5]]);
  assert.deepEqual(callee(fib), [['readFileSync', 1]]);
  const merged = r.functions.filter((f) => f.threadId === -1);
  assert.ok(merged.some((f) => f.name === 'spin' && f.ncalls === 3));
  assert.ok(merged.some((f) => f.name === 'fib' && f.ncalls === 177 && f.primitiveCalls === 1));
});

test('threads carry names, kinds, parents, times and CPU/blocked/idle/GC totals', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  assert.equal(r.threads.length, 2);
  const [m, w] = r.threads as [Report['threads'][0], Report['threads'][0]];
  assert.deepEqual([m.id, m.name, m.kind, m.parentId, m.startMs, m.endMs], [0, 'main', 'main', null, 0, 26]);
  assert.deepEqual([w.id, w.name, w.kind, w.parentId, w.startMs, w.endMs], [1, 'cruncher', 'worker', 0, 0.8, 24]);
  assert.equal(m.cpuMs, 7.5);
  assert.equal(m.idleMs, 1);
  assert.equal(m.gcMs, 0.5);
  assert.equal(w.cpuMs, 11);
  assert.equal(w.blockedMs, 2);
  assert.equal(r.wallMs, 26);
  assert.equal(r.partial, false);
  assert.equal(r.program.outcome, 'exited');
  assert.equal(r.tool.backend, 'inspector');
});

test('timeline slices are columnar, merged per state and stack, with blocked and GC laid over samples', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  const tl = r.timeline;
  const lane = (l: number) => tl.start.map((_, i) => i).filter((i) => tl.thread[i] === l);
  const main = lane(0).map((i) => [tl.start[i], tl.end[i], tl.state[i]]);
  // Each sample stands for the time half-way to its neighbours.
  assert.deepEqual(main, [
    [0.5, 1.5, ThreadState.Running],
    [1.5, 2.5, ThreadState.Running],
    [2.5, 4.5, ThreadState.Running],
    [4.5, 5.5, ThreadState.Running],
    [5.5, 6.5, ThreadState.Idle],
    [6.5, 7.5, ThreadState.GC],
    [7.5, 8.5, ThreadState.Running],
    [20, 20.5, ThreadState.GC],
  ]);
  const stackNames = (i: number) => r.stacks.stacks[tl.stack[i]!]!.map((f) => r.stacks.frames[f]![0]);
  assert.deepEqual(stackNames(lane(0)[2]!), ['main', 'fib', 'fib']);
  const worker = lane(1).map((i) => [tl.start[i], tl.end[i], tl.state[i], tl.label[i]! >= 0 ? tl.labels[tl.label[i]!] : null]);
  assert.deepEqual(worker, [
    [1.5, 12.5, ThreadState.Running, null],
    [14, 16, ThreadState.Blocked, '100.0.1:8'],
  ]);
  assert.deepEqual(r.messages, [{ fromThreadId: 0, toThreadId: 1, sentMs: 1.5, receivedMs: 2, bytes: 16 }]);
});

test('metrics: cpu, parallelism, efficiency, busy over time and serial phases', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  const m = r.metrics;
  assert.equal(m.cpuMs, 18.5);
  assert.equal(m.threadsUsed, 2);
  assert.ok(Math.abs(m.parallelism - 18.5 / 26) < 1e-9);
  assert.ok(Math.abs(m.efficiency - 18.5 / 26 / 2) < 1e-9);
  const busySum = m.busyOverTime.busy.reduce((a, b) => a + b, 0) * m.busyOverTime.bucketMs;
  assert.ok(Math.abs(busySum - 18.5) < 1e-6, `busy-over-time integrates to the CPU time (${busySum})`);
  // Both threads busy only 1.5..8.5 except main's idle 5.5..6.5 → at most one busy for 26 - 6 ms.
  assert.ok(m.observedSerialFraction !== null && Math.abs(m.observedSerialFraction - 20 / 26) < 1e-9);
  assert.ok(m.serialPhases.some((p) => p.startMs === 8.5 && p.endMs === 12.5), JSON.stringify(m.serialPhases));
});

test('efficiency divides by the processors used: the threads, or the cores when threads outnumber them', () => {
  const run = loadRun(join(runs, 'basic'));
  const onOne = analyseRun({ ...run, manifest: { ...run.manifest!, cores: 1 } }).metrics;
  assert.equal(onOne.cores, 1);
  assert.ok(Math.abs(onOne.efficiency - 18.5 / 26) < 1e-9, 'two busy threads on one core: parallelism / 1');
  const onEight = analyseRun({ ...run, manifest: { ...run.manifest!, cores: 8 } }).metrics;
  assert.ok(Math.abs(onEight.efficiency - 18.5 / 26 / 2) < 1e-9, 'two threads on eight cores: parallelism / 2');
});

test('a killed run is analysed and marked partial; a cut-off last record is dropped', () => {
  const r = analyseRunDir(join(runs, 'killed'));
  assert.equal(r.partial, true);
  assert.equal(r.program.outcome, 'timeout');
  assert.match(r.program.error ?? '', /time limit/);
  assert.equal(r.threads[0]!.complete, false);
  assert.equal(r.threads[1]!.complete, true);
  assert.equal(row(r, 0, 'fib').ncalls, 177);
  assert.ok(r.warnings.some((w) => /cut-off/.test(w)));
  assert.equal(r.threads[0]!.endMs, 25, 'an unfinished thread ends at its last record');
});

test('a huge profile is summarised to the timeline budget with exact function times', async () => {
  const { ThreadSlices } = await import('../../src/core/timeline');
  const { parseProfile } = await import('../../src/core/profile');
  const n = 50_000;
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 3] },
    { id: 2, callFrame: { functionName: 'a', scriptId: '1', url: 'file:///x.js', lineNumber: 0, columnNumber: 10 } },
    { id: 3, callFrame: { functionName: 'b', scriptId: '1', url: 'file:///x.js', lineNumber: 5, columnNumber: 10 } },
  ];
  // Alternating stacks: no two neighbouring samples merge on their own.
  const p = parseProfile({ nodes, startTime: 0, endTime: n * 100, samples: Array.from({ length: n }, (_, i) => 2 + (i % 2)), timeDeltas: new Array(n).fill(100) });
  const slices = new ThreadSlices(1000);
  slices.addSamples(p, Int32Array.from([-1, 0, 1]));
  slices.finish();
  assert.ok(slices.start.length <= 1000, `${slices.start.length} slices`);
  assert.ok(slices.start.length >= 250, 'summarising keeps a useful resolution');
  assert.ok(slices.minUs > 0);
  let covered = 0;
  for (let i = 0; i < slices.start.length; i++) {
    covered += slices.end[i]! - slices.start[i]!;
    if (i) assert.ok(slices.start[i]! >= slices.end[i - 1]!, 'slices stay ordered and disjoint');
  }
  assert.equal(covered, n * 100 - 50, 'no time lost or invented (samples stand for the time half-way to their neighbours)');
});

test('a lane alternating between running and idle is summarised across states in a few passes, with exact state totals', async () => {
  const { ThreadSlices } = await import('../../src/core/timeline');
  const { parseProfile } = await import('../../src/core/profile');
  const n = 200_000;
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 3] },
    { id: 2, callFrame: { functionName: 'a', scriptId: '1', url: 'file:///x.js', lineNumber: 0, columnNumber: 10 } },
    { id: 3, callFrame: { functionName: '(idle)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 } },
  ];
  // Running 3 samples, idle 1 sample, over and over: same-state merging cannot shrink it.
  const samples = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 3 : 2));
  const p = parseProfile({ nodes, startTime: 0, endTime: n * 100, samples, timeDeltas: new Array(n).fill(100) });
  // Sample i is at (i + 1)·100 µs and stands for [i·100 + 50, i·100 + 150); the last for 50 µs.
  // One blocked overlay over the first 1000 µs of samples takes that time from the sampled states.
  const over = { start: [50], end: [1050], state: [2], label: ['B:0'] };
  const slices = new ThreadSlices(1000, over);
  slices.addSamples(p, Int32Array.from([-1, 0, -1]));
  slices.finish();
  assert.ok(slices.crossState);
  assert.ok(slices.start.length <= 1000, `${slices.start.length} slices`);
  assert.ok(slices.compactions <= 12, `${slices.compactions} compactions (one per sample would be quadratic)`);
  const t = slices.exactTotals();
  assert.equal(t.blocked, 1000);
  assert.equal(t.running + t.idle, n * 100 - 50 - 1000);
  // Idle samples 3 and 7 lie under the overlay; the last sample (idle) covers 50 µs.
  assert.equal(t.idle, (n / 4) * 100 - 200 - 50);
});

test("the profiler's own slices are left out of the program's busy time", async () => {
  const { computeMetrics } = await import('../../src/core/metrics');
  const tl = { thread: [0, 0, 1], start: [0, 4, 0], end: [4, 10, 10], state: [0, 0, 0], stack: [7, 8, 8], label: [-1, -1, -1], labels: [], wakeups: [] };
  const m = computeMetrics(tl, 10, (s) => s === 7);
  assert.equal(m.cpuMs, 16);
  assert.equal(m.profilerCpuMs, 4);
  assert.equal(m.observedSerialFraction, 0.4, 'only thread 1 worked while thread 0 ran the profiler');
});

test('GC samples count in the cumtime of the function that was running', async () => {
  const { parseProfile } = await import('../../src/core/profile');
  const frame = (functionName: string, url = '') => ({ functionName, scriptId: '0', url, lineNumber: url ? 1 : -1, columnNumber: url ? 1 : -1 });
  const p = parseProfile({
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
      { id: 2, callFrame: frame('alloc', 'file:///a.js') },
      { id: 3, callFrame: frame('(garbage collector)') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 0,
    endTime: 6000,
    samples: [2, 3, 3, 4, 3, 2],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
  });
  const gcUnderAlloc = p.sampleNode[1]!;
  assert.equal(p.parent[gcUnderAlloc], 1, 'GC after alloc hangs under alloc');
  assert.equal(p.sampleNode[2], gcUnderAlloc, 'consecutive GC samples share the node');
  assert.equal(p.parent[p.sampleNode[4]!], 0, 'GC after idle stays at the root');
  assert.equal(p.name[gcUnderAlloc], '(garbage collector)');
});

test('message and wake-up arrows past the budget are thinned evenly, with a warning; counts use all of them', () => {
  const main = thread(0);
  const worker = thread(1);
  shareBuffer(main);
  shareBuffer(worker);
  const ids = Array.from({ length: 10 }, (_, k) => `100.0.${k}`);
  const us = ids.map((_, k) => 1000 * k + 100);
  main.msgs.push({ k: 'msg', dir: 's', us, id: ids, peer: ids.map(() => 1), bytes: ids.map(() => 8), channel: ids.map(() => 0) });
  worker.msgs.push({ k: 'msg', dir: 'r', us: us.map((u) => u + 50), id: ids, peer: ids.map(() => 0), bytes: ids.map(() => 8), channel: ids.map(() => 0) });
  // Ten wait/notify hand-offs on one word: each notify wakes the wait in progress.
  atoms(worker, ids.map((_, k): Atom => [1000 * k, AtomOp.Wait, 0, 0, WaitResult.Ok, 500, 3]));
  atoms(main, ids.map((_, k): Atom => [1000 * k + 400, AtomOp.Notify, 0, 1, 1, 0, 4]));

  const full = analyseRun(run(main, worker));
  assert.equal(full.messages.length, 10);
  assert.equal(full.timeline.wakeups.length, 10);

  const r = analyseRun(run(main, worker), 4);
  assert.deepEqual(r.messages.map((m) => m.sentMs), [0.1, 2.1, 5.1, 7.1], 'every 2.5th message, in order');
  assert.deepEqual(r.timeline.wakeups.map((w) => w.fromMs), [0.4, 2.4, 5.4, 7.4]);
  assert.ok(r.warnings.some((w) => w.startsWith('10 messages were passed: the report keeps 4 of them')), r.warnings.join('\n'));
  assert.ok(r.warnings.some((w) => w.startsWith('10 Atomics wake-ups were paired: the report keeps 4')), r.warnings.join('\n'));
  assert.deepEqual(r.locks, full.locks, 'lock numbers are computed before thinning');
  assert.deepEqual(r.metrics.parallelModel, full.metrics.parallelModel);
});

test("a worker that recorded no exit code of its own takes the one its parent's 'exit' event gave", () => {
  const main = thread(0);
  const stopped = thread(1);
  const clean = thread(2);
  // terminate() in the middle of Atomics.wait: the worker's exit record has no code; Node said 1.
  stopped.exit = { k: 'exit', us: 900, code: null, reason: 'terminate' };
  clean.exit = { k: 'exit', us: 800, code: 0, reason: 'exit' };
  main.joins.push({ k: 'join', us: 950, childTid: 1, exitCode: 1 }, { k: 'join', us: 850, childTid: 2, exitCode: 0 });
  const r = analyseRun(run(main, stopped, clean));
  assert.deepEqual(
    r.threads.map((t) => [t.id, t.exitCode]),
    [
      [0, null],
      [1, 1],
      [2, 0],
    ],
  );
});
