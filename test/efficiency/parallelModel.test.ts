import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadState, type FunctionRow } from '../../src/protocol/report';
import { AccessKind, type SegmentRecord } from '../../src/protocol/events';
import { detectParallelModel } from '../../src/core/parallelModel';
import { computeEfficiency } from '../../src/core/efficiency';
import type { LoadedRun, LoadedThread } from '../../src/core/runData';
import { SegmentStore } from '../../src/core/segments';
import { syntheticReport } from './synthetic';

const R = ThreadState.Running;
const I = ThreadState.Idle;

function row(threadId: number, name: string, line: number, tottimeMs: number): FunctionRow {
  return {
    threadId,
    name,
    file: '/app/w.js',
    line,
    column: 1,
    ncalls: null,
    primitiveCalls: null,
    tottimeMs,
    cumtimeMs: tottimeMs,
  };
}

function loaded(threads: { id: number; bufs?: string[]; writes?: [number, number][] }[]): LoadedRun {
  return {
    dir: '/tmp/none',
    manifest: null,
    outcome: null,
    originUs: 0,
    threads: threads.map((t) => {
      const seg: SegmentRecord = {
        k: 'seg',
        self: 0,
        vc: [],
        buf: [],
        off: [],
        len: [],
        kind: [],
        site: [],
      };
      for (const [off, len] of t.writes ?? []) {
        seg.buf.push(0);
        seg.off.push(off);
        seg.len.push(len);
        seg.kind.push(AccessKind.Write);
        seg.site.push(1);
      }
      return {
        id: t.id,
        tid: t.id,
        pid: 1,
        key: `1:${t.id}`,
        bufs: new Map(
          (t.bufs ?? []).map((id, idx) => [
            idx,
            {
              k: 'buf',
              idx,
              id,
              byteLength: 1024,
              site: null,
              origin: t.id === 0,
            },
          ]),
        ),
        segs: SegmentStore.of([seg]),
      } as unknown as LoadedThread;
    }),
  };
}

const threeThreads = () =>
  syntheticReport([
    { id: 0, slices: [[0, 100, I]] },
    { id: 1, slices: [[0, 100, R]] },
    { id: 2, slices: [[0, 100, R]] },
  ]);

test('the same function over disjoint parts of a shared buffer is data parallel', () => {
  const r = threeThreads();
  r.functions.push(row(1, 'multiplyRows', 10, 90), row(2, 'multiplyRows', 10, 85), row(1, 'setup', 2, 1));
  r.messages.push(
    { fromThreadId: 0, toThreadId: 1, sentMs: 0, receivedMs: 1, bytes: 10 },
    { fromThreadId: 0, toThreadId: 2, sentMs: 0, receivedMs: 1, bytes: 10 },
  );
  r.metrics.efficiencyTree = computeEfficiency(r);
  const run = loaded([
    { id: 0, bufs: ['1.0.1'] },
    { id: 1, bufs: ['1.0.1'], writes: [[0, 512]] },
    { id: 2, bufs: ['1.0.1'], writes: [[512, 512]] },
  ]);
  const m = detectParallelModel(r, run)!;
  assert.equal(m.kind, 'data-parallel');
  assert.match(
    m.evidence.join('\n'),
    /worker 1 \(thread 1\), worker 2 \(thread 2\) spent most of their time in the same function, multiplyRows \(w\.js:10\)/,
  );
  assert.match(m.evidence.join('\n'), /all 2 threads share buffer 1\.0\.1/);
  assert.match(m.evidence.join('\n'), /each thread wrote its own part of buffer 1\.0\.1: thread 1 bytes 0–512, thread 2 bytes 512–1024/);
  assert.match(m.evidence.join('\n'), /sent the workers 2 messages/);
});

test('different functions per worker is task parallel', () => {
  const r = threeThreads();
  r.functions.push(row(1, 'parseLogs', 10, 90), row(2, 'resizeImages', 40, 85));
  const m = detectParallelModel(r, loaded([{ id: 0 }, { id: 1 }, { id: 2 }]))!;
  assert.equal(m.kind, 'task-parallel');
  assert.match(m.evidence.join('\n'), /worker 1 \(thread 1\) mostly ran parseLogs \(w\.js:10\)/);
  assert.match(m.evidence.join('\n'), /worker 2 \(thread 2\) mostly ran resizeImages \(w\.js:40\)/);
});

test('messages flowing worker to worker is a pipeline', () => {
  const r = syntheticReport([
    { id: 0, slices: [[0, 100, I]] },
    { id: 1, slices: [[0, 100, R]] },
    { id: 2, slices: [[0, 100, R]] },
    { id: 3, slices: [[0, 100, R]] },
  ]);
  r.functions.push(row(1, 'decode', 1, 50), row(2, 'transform', 2, 50), row(3, 'encode', 3, 50));
  for (let i = 0; i < 5; i++) {
    r.messages.push({
      fromThreadId: 1,
      toThreadId: 2,
      sentMs: i,
      receivedMs: i + 1,
      bytes: 8,
    });
    r.messages.push({
      fromThreadId: 2,
      toThreadId: 3,
      sentMs: i + 1,
      receivedMs: i + 2,
      bytes: 8,
    });
  }
  const m = detectParallelModel(r, loaded([{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]))!;
  assert.equal(m.kind, 'pipeline');
  assert.match(m.evidence.join('\n'), /5 messages flowed from worker 1 \(thread 1\) to worker 2 \(thread 2\)/);
  assert.match(m.evidence.join('\n'), /5 messages flowed from worker 2 \(thread 2\) to worker 3 \(thread 3\)/);
});

test('one busy thread is serial', () => {
  const r = syntheticReport([{ id: 0, slices: [[0, 100, R]] }]);
  const m = detectParallelModel(r, loaded([{ id: 0 }]))!;
  assert.equal(m.kind, 'serial');
  assert.match(m.evidence[0]!, /only main did significant work/);
});
