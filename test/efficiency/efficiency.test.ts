import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadState } from '../../src/protocol/report';
import { computeEfficiency } from '../../src/core/efficiency';
import { syntheticReport } from './synthetic';

const R = ThreadState.Running;
const I = ThreadState.Idle;
const B = ThreadState.Blocked;
const GC = ThreadState.GC;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

/** The factors multiply back to their parents and stay in [0, 1]. */
function assertConsistent(t: NonNullable<ReturnType<typeof computeEfficiency>>) {
  for (const v of [t.parallelEfficiency, t.loadBalance, t.communicationEfficiency, t.serialisation, t.transfer, t.gcShare])
    assert.ok(v >= 0 && v <= 1, `factor ${v} outside [0, 1]`);
  close(t.loadBalance * t.communicationEfficiency, t.parallelEfficiency);
  close(t.serialisation * t.transfer, t.communicationEfficiency);
  assert.equal(t.factors!.length, 8);
  assert.equal(t.explanations.length, 8);
}

function lowest(t: NonNullable<ReturnType<typeof computeEfficiency>>): string {
  const f = {
    loadBalance: t.loadBalance,
    serialisation: t.serialisation,
    transfer: t.transfer,
  };
  return Object.entries(f).sort((a, b) => a[1] - b[1])[0]![0];
}

test('an unbalanced split shows up as load balance, naming the slowest and fastest worker', () => {
  // Worker 1 works 90 ms, worker 2 works 30 ms then idles: LB = (90 + 30) / 2 / 90 = 2/3.
  const r = syntheticReport([
    { id: 0, slices: [[0, 90, I]] },
    { id: 1, slices: [[0, 90, R, ['main@/app/w.js', 'sumRows@/app/w.js']]] },
    {
      id: 2,
      slices: [
        [0, 30, R],
        [30, 90, I],
      ],
    },
  ]);
  r.functions.push({
    threadId: 1,
    name: 'sumRows',
    file: '/app/w.js',
    line: 7,
    column: 1,
    ncalls: 1,
    primitiveCalls: 1,
    tottimeMs: 88,
    cumtimeMs: 88,
  });
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  close(t.loadBalance, 2 / 3);
  close(t.communicationEfficiency, 1);
  close(t.parallelEfficiency, 2 / 3);
  assert.equal(lowest(t), 'loadBalance');
  assert.equal(t.slowestThreadId, 1);
  assert.equal(t.fastestThreadId, 2);
  assert.deepEqual(t.threadIds, [1, 2], 'the idle main thread is not compared');
  assert.match(
    t.explanations[1]!,
    /worker 1 \(thread 1\) worked 1\.5× longer than the mean \(90\.0 ms vs 60\.0 ms\), mostly in sumRows \(w\.js:7\)/i,
  );
  assert.match(t.explanations[1]!, /worker 2 \(thread 2\) did only 30\.0 ms/);
});

test('a hot lock shows up as serialisation, naming the lock', () => {
  // Each worker holds the lock half the time and is blocked the other half.
  const r = syntheticReport(
    [
      { id: 0, slices: [[0, 100, I]] },
      {
        id: 1,
        slices: [
          [0, 50, R],
          [50, 100, B],
        ],
      },
      {
        id: 2,
        slices: [
          [0, 50, B],
          [50, 100, R],
        ],
      },
    ],
    {
      locks: [
        {
          id: 'L1',
          buffer: '1.0.1',
          byteOffset: 0,
          shape: 'mutex',
          acquisitions: 2,
          contended: 2,
          waitMs: 100,
          spinMs: 0,
          holdMs: 100,
          sites: [
            {
              threadId: 1,
              role: 'acquire',
              file: '/app/lock.js',
              line: 12,
              count: 2,
              waitMs: 100,
            },
          ],
        },
      ],
    },
  );
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  close(t.loadBalance, 1);
  close(t.serialisation, 0.5);
  close(t.transfer, 1);
  assert.equal(lowest(t), 'serialisation');
  assert.match(t.explanations[3]!, /50\.0 ms blocked on lock L1 \(lock\.js:12\)/);
});

test('a large message per task shows up as transfer', () => {
  // Main sends each worker a task at 0 that arrives at 40: the worker idles 30 ms while
  // main clones it, then 10 ms deserialising, then works 20 ms. Transfer = 40 of 60 ms.
  const r = syntheticReport(
    [
      {
        id: 0,
        slices: [
          [0, 30, R, ['main', 'postMessage@node:internal/worker']],
          [30, 60, I],
        ],
      },
      {
        id: 1,
        slices: [
          [0, 30, I],
          [30, 40, R, ['emitMessage@node:internal/per_context/messageport']],
          [40, 60, R],
        ],
      },
      {
        id: 2,
        slices: [
          [0, 30, I],
          [30, 40, R, ['emitMessage@node:internal/per_context/messageport']],
          [40, 60, R],
        ],
      },
    ],
    {
      messages: [
        {
          fromThreadId: 0,
          toThreadId: 1,
          sentMs: 0,
          receivedMs: 40,
          bytes: 64 << 20,
        },
        {
          fromThreadId: 0,
          toThreadId: 2,
          sentMs: 0,
          receivedMs: 40,
          bytes: 64 << 20,
        },
      ],
    },
  );
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  close(t.transfer, 1 / 3);
  close(t.serialisation, 1);
  close(t.loadBalance, 1);
  assert.equal(lowest(t), 'transfer');
  assert.match(t.explanations[4]!, /Moving 2 messages, 128\.0 MB in all .* cost each thread 40\.0 ms/);
});

test('a user message handler is work, not transfer', () => {
  const r = syntheticReport(
    [
      { id: 0, slices: [[0, 100, I]] },
      {
        id: 1,
        slices: [[0, 100, R, ['emitMessage@node:internal/per_context/messageport', 'onTask@/app/w.js']]],
      },
      { id: 2, slices: [[0, 100, R]] },
    ],
    {
      messages: [{ fromThreadId: 0, toThreadId: 1, sentMs: 0, receivedMs: 1, bytes: 10 }],
    },
  );
  const t = computeEfficiency(r)!;
  close(t.transfer, 1);
  close(t.parallelEfficiency, 1);
});

test('a long serial phase shows up as serialisation and in the observed serial fraction', () => {
  // Main computes alone for 60 ms, then two workers split 80 ms of work: 40 ms each.
  const r = syntheticReport([
    {
      id: 0,
      slices: [
        [0, 60, R],
        [60, 100, I],
      ],
    },
    { id: 1, slices: [[60, 100, R]] },
    { id: 2, slices: [[60, 100, R]] },
  ]);
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  assert.deepEqual(t.threadIds, [1, 2]);
  close(t.serialisation, 0.4);
  close(t.loadBalance, 1);
  close(t.transfer, 1);
  assert.equal(lowest(t), 'serialisation');
  close(t.observedSerialFraction!, 0.6, 1e-6);
  close(t.amdahlCeiling!, 1 / 0.6, 1e-6);
  assert.match(
    t.explanations[5]!,
    /Only one thread was busy for 60% of the wall time, so by Amdahl's law this program can never run more than 1\.7× faster/,
  );
  assert.match(t.explanations[3]!, /60\.0 ms before starting or after finishing/);
});

test('the main thread is compared when it computes beside the workers', () => {
  const r = syntheticReport([
    { id: 0, slices: [[0, 100, R]] },
    { id: 1, slices: [[0, 100, R]] },
  ]);
  const t = computeEfficiency(r)!;
  assert.deepEqual(t.threadIds, [0, 1]);
  close(t.parallelEfficiency, 1);
});

test('GC is shown apart and counted as work, not as a parallel loss', () => {
  const r = syntheticReport([
    { id: 0, slices: [[0, 100, I]] },
    {
      id: 1,
      slices: [
        [0, 80, R],
        [80, 100, GC],
      ],
    },
    { id: 2, slices: [[0, 100, R]] },
  ]);
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  close(t.gcShare, 0.1);
  close(t.parallelEfficiency, 1);
  assert.match(t.explanations[6]!, /Garbage collection took 10% of the busy time \(most in worker 1 \(thread 1\)\)/);
});

test('a single-threaded program has one thread compared and nothing to balance', () => {
  const r = syntheticReport([
    {
      id: 0,
      slices: [
        [0, 80, R],
        [80, 100, I],
      ],
    },
  ]);
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  assert.deepEqual(t.threadIds, [0]);
  close(t.parallelEfficiency, 0.8);
  assert.equal(t.slowestThreadId, null);
  assert.match(t.explanations[1]!, /Only one thread/);
});

test('no threads or no wall time gives no tree', () => {
  const r = syntheticReport([{ id: 0, slices: [[0, 0, R]] }]);
  assert.equal(computeEfficiency(r), null);
});

test("the profiler's own start-up is left out of the factors and shown apart", () => {
  // Main spends 50 ms in the agent before anything else runs; then two workers work 100 ms.
  const r = syntheticReport([
    {
      id: 0,
      slices: [
        [0, 50, R, ['(anonymous)@node:internal/main/run_main_module', '(profiler)@/pkg/out/agent.js']],
        [50, 150, I],
      ],
    },
    { id: 1, slices: [[50, 150, R]] },
    { id: 2, slices: [[50, 150, R]] },
  ]);
  const t = computeEfficiency(r)!;
  assertConsistent(t);
  close(t.parallelEfficiency, 1);
  close(t.profilerShare!, 50 / 150);
  assert.match(t.explanations[7]!, /delayed the run by 50\.0 ms, 33% of the wall time/);
  assert.match(t.explanations[0]!, /150 ms less 50\.0 ms before the program's own code first ran\)/);
});
