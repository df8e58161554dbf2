/** Unit tests of lock recognition, wake-ups and deadlock analysis on hand-built runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseLocks, pairWakeups } from '../../src/core/locks';
import { atoms, run, shareBuffer, site, thread } from '../races/runBuilder';

// AtomOp codes (src/protocol/events.ts).
const LOAD = 0;
const STORE = 1;
const ADD = 2;
const SUB = 3;
const XCHG = 7;
const CAS_OK = 8;
const CAS_FAIL = 9;
const WAIT = 10;
const NOTIFY = 11;
const OK = 0;

function threads(n: number) {
  const list = Array.from({ length: n }, (_, tid) => thread(tid));
  for (const t of list) shareBuffer(t, 'B', 0, 64, t.tid === 0, t.tid === 0 ? 3 : undefined);
  return list;
}

test('futex mutex 0/1/2: acquisitions, contention, wait, spin, hold, sites and the wake-up arrow', () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [
    [10, CAS_OK, 0, 1, 0, 0, 10],
    [50, SUB, 0, 1, 2, 0, 20],
    [51, STORE, 0, 0, 0, 0, 21],
    [52, NOTIFY, 0, 1, 1, 0, 22],
  ]);
  atoms(w2!, [
    [20, CAS_FAIL, 0, 1, 1, 0, 10],
    [21, XCHG, 0, 2, 1, 0, 12],
    [22, WAIT, 0, 2, OK, 31, 13],
    [54, XCHG, 0, 2, 0, 0, 12],
    [60, SUB, 0, 1, 2, 0, 20],
    [61, STORE, 0, 0, 0, 0, 21],
  ]);
  const { locks, deadlocks, wakeups } = analyseLocks(run(main!, w1!, w2!));
  assert.equal(locks.length, 1);
  const l = locks[0]!;
  assert.equal(l.id, 'B:0');
  assert.equal(l.shape, 'mutex');
  assert.equal(l.acquisitions, 2);
  assert.equal(l.contended, 1);
  assert.equal(l.waitMs, 0.031);
  assert.equal(l.spinMs, 0.003);
  assert.equal(l.holdMs, 0.048);
  const rows = l.sites.map((s) => [s.role, s.threadId, s.line, s.count, s.waitMs]);
  assert.deepEqual(rows, [
    ['acquire', 2, 12, 1, 0.034],
    ['acquire', 1, 10, 1, 0],
    ['wait', 2, 13, 1, 0.031],
    // The releaser that let thread 2 in is charged its 34 µs delay (Go's mutex profile).
    ['release', 1, 21, 1, 0.034],
    ['release', 2, 21, 1, 0],
  ]);
  assert.deepEqual(deadlocks, []);
  assert.deepEqual(wakeups, [{ fromThread: 1, fromMs: 0.052, toThread: 2, toMs: 0.053, lock: 'B:0' }]);
});

test('a lock taken 300k times in one thread is analysed (no spread of every hold into one call)', () => {
  const [main, w1] = threads(2);
  const ops: [number, number, number, number, number, number, number][] = [];
  for (let i = 0; i < 300_000; i++) ops.push([i * 4, CAS_OK, 0, 1, 0, 0, 10], [i * 4 + 2, STORE, 0, 0, 0, 0, 11]);
  atoms(w1!, ops);
  const { locks } = analyseLocks(run(main!, w1!));
  assert.equal(locks.length, 1);
  assert.equal(locks[0]!.acquisitions, 300_000);
  assert.equal(locks[0]!.contended, 0);
  assert.equal(locks[0]!.holdMs, 600);
});

test("Drepper's futex mutex (CAS 1→2 marks a held word contended) is a mutex, and marking is no acquisition", () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [
    [10, CAS_OK, 0, 1, 0, 0, 10],
    [50, SUB, 0, 1, 2, 0, 20],
    [51, STORE, 0, 0, 0, 0, 21],
    [52, NOTIFY, 0, 1, 1, 0, 22],
  ]);
  atoms(w2!, [
    [20, CAS_FAIL, 0, 1, 1, 0, 10],
    [21, CAS_OK, 0, 2, 1, 0, 11],
    [22, WAIT, 0, 2, OK, 31, 12],
    [54, CAS_OK, 0, 2, 0, 0, 13],
    [60, SUB, 0, 1, 2, 0, 20],
    [61, STORE, 0, 0, 0, 0, 21],
    [62, NOTIFY, 0, 1, 0, 0, 22],
  ]);
  const [l] = analyseLocks(run(main!, w1!, w2!)).locks;
  assert.equal(l?.shape, 'mutex');
  assert.equal(l?.acquisitions, 2);
  assert.equal(l?.contended, 1);
});

test("Drepper's mutex: a waiter's marking CAS 1→2 logged while nobody holds the word is no acquisition", () => {
  // Threads' logs order ops only by their clocks: w3's mark (1→2) can come out after w1's
  // release and before w4's acquisition (0→1) that it really followed.
  const [main, w1, w2, w3, w4] = threads(5);
  atoms(w1!, [
    [10, CAS_OK, 0, 1, 0, 0, 10],
    [50, SUB, 0, 1, 2, 0, 20],
    [52, STORE, 0, 0, 0, 0, 21],
    [53, NOTIFY, 0, 1, 1, 0, 22],
  ]);
  atoms(w2!, [
    [20, CAS_FAIL, 0, 1, 1, 0, 10],
    [21, CAS_OK, 0, 2, 1, 0, 11],
    [22, WAIT, 0, 2, OK, 31, 12],
    [70, CAS_OK, 0, 2, 0, 0, 13],
    [72, SUB, 0, 1, 2, 0, 20],
    [73, STORE, 0, 0, 0, 0, 21],
  ]);
  atoms(w3!, [
    [54, CAS_OK, 0, 2, 1, 0, 11],
    [80, CAS_OK, 0, 2, 0, 0, 13],
    [85, SUB, 0, 1, 2, 0, 20],
    [86, STORE, 0, 0, 0, 0, 21],
  ]);
  atoms(w4!, [
    [55, CAS_OK, 0, 1, 0, 0, 10],
    [65, SUB, 0, 1, 1, 0, 20],
  ]);
  const [l] = analyseLocks(run(main!, w1!, w2!, w3!, w4!)).locks;
  assert.equal(l?.shape, 'mutex');
  assert.equal(l?.acquisitions, 4);
});

test('spin lock by exchange: contention is spin time only', () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [
    [0, XCHG, 8, 1, 0, 0, 5],
    [100, STORE, 8, 0, 0, 0, 7],
  ]);
  atoms(w2!, [
    [10, XCHG, 8, 1, 1, 0, 5],
    [40, XCHG, 8, 1, 1, 0, 5],
    [101, XCHG, 8, 1, 0, 0, 5],
    [150, STORE, 8, 0, 0, 0, 7],
  ]);
  const [l] = analyseLocks(run(main!, w1!, w2!)).locks;
  assert.equal(l?.shape, 'spinlock');
  assert.equal(l?.acquisitions, 2);
  assert.equal(l?.contended, 1);
  assert.equal(l?.waitMs, 0);
  assert.equal(l?.spinMs, 0.091);
  assert.equal(l?.holdMs, 0.149);
});

test('reader-writer lock: a reader whose count-up lost to another reader was not held out; a writer held out by readers was', () => {
  const [main, r1, r2, w] = threads(4);
  // atoms rows: [us, op, offset, value, result, duration, line]
  atoms(r1!, [
    [10, CAS_OK, 0, 1, 0, 0, 10],
    [40, SUB, 0, 1, 2, 0, 20],
  ]);
  atoms(r2!, [
    [11, CAS_FAIL, 0, 1, 1, 0, 10], // expected 0, found 1: R1 got in first
    [12, CAS_OK, 0, 2, 1, 0, 10],
    [50, SUB, 0, 1, 1, 0, 20],
    [51, NOTIFY, 0, 1, 1, 0, 21],
  ]);
  atoms(w!, [
    [20, CAS_FAIL, 0, -1, 2, 0, 30], // readers inside
    [21, WAIT, 0, 2, OK, 30, 31],
    [52, CAS_OK, 0, -1, 0, 0, 30],
    [60, STORE, 0, 0, 0, 0, 32],
  ]);
  const [l] = analyseLocks(run(main!, r1!, r2!, w!)).locks;
  console.log('DBG', JSON.stringify({a: l?.acquisitions, c: l?.contended, sites: l?.sites.map((x) => [x.role, x.threadId, x.line, x.count])}));
  assert.equal(l?.acquisitions, 3);
  assert.equal(l?.contended, 1, 'only the writer waited');
  assert.equal(l?.waitMs, 0.03);
});

test('reader-writer lock busy with readers: joins from 1 and 2 outnumber entries from free, and every one is an acquisition', () => {
  const [main, r1, r2, r3, w] = threads(5);
  // Three readers overlap twice: 0→1, 1→2, 2→3, then each leaves; the writer enters once after.
  for (const [k, r] of [r1!, r2!, r3!].entries()) {
    atoms(r, [
      [10 + k, CAS_OK, 0, k + 1, k, 0, 10],
      [20 + k, SUB, 0, 1, 3 - k, 0, 20],
      [30 + k, CAS_OK, 0, k + 1, k, 0, 10],
      [40 + k, SUB, 0, 1, 3 - k, 0, 20],
    ]);
  }
  atoms(w!, [
    [50, CAS_OK, 0, -1, 0, 0, 30],
    [60, STORE, 0, 0, 0, 0, 32],
  ]);
  const [l] = analyseLocks(run(main!, r1!, r2!, r3!, w!)).locks;
  assert.equal(l?.acquisitions, 7);
  assert.equal(l?.sites.filter((s) => s.role === 'release').reduce((n, s) => n + s.count, 0), 7);
  assert.equal(l?.shape, 'rwlock', 'readers counting up on a held word make it a reader-writer lock');
});

test('reader-writer lock released by CAS (npm multithreading RwLock): readers join by CAS n→n+1, the writer takes 0→-1 and gives back by CAS -1→0', () => {
  const [main, r1, r2, w] = threads(4);
  atoms(r1!, [
    [10, LOAD, 0, 0, 0, 0, 9],
    [11, CAS_OK, 0, 1, 0, 0, 10],
    [40, SUB, 0, 1, 2, 0, 20],
  ]);
  atoms(r2!, [
    [12, LOAD, 0, 0, 1, 0, 9],
    [13, CAS_OK, 0, 2, 1, 0, 10],
    [50, SUB, 0, 1, 1, 0, 20],
    [51, NOTIFY, 0, 1, 1, 0, 21],
  ]);
  atoms(w!, [
    [20, LOAD, 0, 0, 2, 0, 29],
    [21, WAIT, 0, 2, OK, 30, 31],
    [52, LOAD, 0, 0, 0, 0, 29],
    [53, CAS_OK, 0, -1, 0, 0, 30],
    [60, CAS_OK, 0, 0, -1, 0, 32],
    [61, NOTIFY, 0, 0x7fffffff, 0, 0, 33],
  ]);
  const [l] = analyseLocks(run(main!, r1!, r2!, w!)).locks;
  assert.equal(l?.shape, 'rwlock');
  console.log('DBG', JSON.stringify({a: l?.acquisitions, c: l?.contended, sites: l?.sites.map((x) => [x.role, x.threadId, x.line, x.count])}));
  assert.equal(l?.acquisitions, 3);
  assert.equal(l?.contended, 1, 'the writer waited for the readers');
  assert.equal(l?.sites.filter((s) => s.role === 'release').reduce((n, s) => n + s.count, 0), 3);
  const writer = l?.sites.filter((s) => s.threadId === 3 && s.role !== 'wait').map((s) => `${s.role}@${s.line}`);
  assert.deepEqual(writer, ['acquire@30', 'release@32'], 'the writer takes the lock by its 0→-1, not by giving it back (-1→0 is no join from below free)');
});

test('a try-lock polled from a timer is contended but does not spin; a tight retry loop spins', () => {
  const [main, holder, poller, spinner] = threads(4);
  atoms(holder!, [
    [0, CAS_OK, 0, 1, 0, 0, 10],
    [75_000, STORE, 0, 0, 0, 0, 11],
    [80_000, CAS_OK, 8, 1, 0, 0, 10],
    [80_500, STORE, 8, 0, 0, 0, 11],
  ]);
  // Every 25 ms a failed try, the event loop idle in between; the fourth succeeds.
  atoms(poller!, [
    [10_000, CAS_FAIL, 0, 1, 1, 0, 20],
    [35_000, CAS_FAIL, 0, 1, 1, 0, 20],
    [60_000, CAS_FAIL, 0, 1, 1, 0, 20],
    [85_000, CAS_OK, 0, 1, 0, 0, 20],
    [85_100, STORE, 0, 0, 0, 0, 21],
  ]);
  // Retrying every few microseconds for 400 µs.
  atoms(spinner!, [
    ...Array.from({ length: 100 }, (_, k) => [80_100 + 4 * k, CAS_FAIL, 8, 1, 1, 0, 30] as [number, number, number, number, number, number, number]),
    [80_500, CAS_OK, 8, 1, 0, 0, 30],
    [80_600, STORE, 8, 0, 0, 0, 31],
  ]);
  const locks = analyseLocks(run(main!, holder!, poller!, spinner!)).locks;
  const at = (off: number) => locks.find((l) => l.id === `B:${off}`)!;
  assert.deepEqual([at(0).acquisitions, at(0).contended, at(0).spinMs], [2, 1, 0]);
  assert.deepEqual([at(8).acquisitions, at(8).contended, at(8).spinMs], [2, 1, 0.4]);
  // When the samples say the poller was never idle between its tries (pre-empted, not polling), it spun.
  const busy = analyseLocks(run(main!, holder!, poller!, spinner!), () => 0).locks.find((l) => l.id === 'B:0')!;
  assert.equal(busy.spinMs, 75);
});

test('idle time of a lane between two instants, from the timeline', async () => {
  const { idleTimeOf } = await import('../../src/core/timeline');
  // Lane 1: idle 0–10 ms and 20–30 ms, running between; lane 0 always running. Origin 1000 µs.
  const tl = { thread: [1, 1, 1, 0], start: [0, 10, 20, 0], end: [10, 20, 30, 30], state: [1, 0, 1, 0], stack: [-1, 3, -1, 3], label: [-1, -1, -1, -1], labels: [], wakeups: [] };
  const idle = idleTimeOf(tl, 1000);
  assert.equal(idle(1, 1000, 31_000), 20_000);
  assert.equal(idle(1, 6000, 26_000), 10_000, '5 ms of the first interval and 5 ms of the second');
  assert.equal(idle(1, 12_000, 20_000), 0);
  assert.equal(idle(0, 1000, 31_000), 0);
  assert.equal(idle(1, 26_000, 6000), 0);
});

test('an initialising store by the main thread is not a release', () => {
  const [main, w1] = threads(2);
  atoms(main!, [[0, STORE, 0, 0, 0, 0, 3]]);
  atoms(w1!, [
    [5, CAS_OK, 0, 1, 0, 0, 10],
    [9, STORE, 0, 0, 1, 0, 11],
  ]);
  const [l] = analyseLocks(run(main!, w1!)).locks;
  assert.equal(l?.acquisitions, 1);
  assert.deepEqual(
    l?.sites.filter((s) => s.role === 'release').map((s) => s.threadId),
    [1],
  );
});

test('counting semaphore by CAS decrement and add + notify', () => {
  const [main, w1, w2, w3] = threads(4);
  atoms(main!, [[0, STORE, 0, 2, 0, 0, 2]]);
  atoms(w1!, [
    [10, LOAD, 0, 0, 2, 0, 20],
    [11, CAS_OK, 0, 1, 2, 0, 21],
    [50, ADD, 0, 1, 0, 0, 30],
    [51, NOTIFY, 0, 1, 1, 0, 31],
  ]);
  atoms(w2!, [
    [12, LOAD, 0, 0, 1, 0, 20],
    [13, CAS_OK, 0, 0, 1, 0, 21],
    [70, ADD, 0, 1, 0, 0, 30],
  ]);
  atoms(w3!, [
    [14, LOAD, 0, 0, 0, 0, 20],
    [15, WAIT, 0, 0, OK, 37, 22],
    [52, LOAD, 0, 0, 1, 0, 20],
    [53, CAS_OK, 0, 0, 1, 0, 21],
    [60, ADD, 0, 1, 0, 0, 30],
  ]);
  const { locks, wakeups } = analyseLocks(run(main!, w1!, w2!, w3!));
  const l = locks[0]!;
  assert.equal(l.shape, 'semaphore');
  assert.equal(l.acquisitions, 3);
  assert.equal(l.contended, 1);
  assert.equal(l.waitMs, 0.037);
  assert.equal(l.holdMs, 0.103); // 39 + 57 + 7 µs
  assert.deepEqual(
    wakeups.map((w) => [w.fromThread, w.toThread]),
    [[1, 3]],
  );
});

test('ticket lock: fetch-add a ticket, wait on the serving counter, release by fetch-add', () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [
    [1, ADD, 0, 1, 0, 0, 10],
    [2, LOAD, 4, 0, 0, 0, 11],
    [10, ADD, 4, 1, 0, 0, 14],
    [11, NOTIFY, 4, 99, 1, 0, 15],
  ]);
  atoms(w2!, [
    [3, ADD, 0, 1, 1, 0, 10],
    [4, LOAD, 4, 0, 0, 0, 11],
    [5, WAIT, 4, 0, OK, 7, 12],
    [12, LOAD, 4, 0, 1, 0, 11],
    [20, ADD, 4, 1, 1, 0, 14],
  ]);
  const { locks, wakeups } = analyseLocks(run(main!, w1!, w2!));
  assert.equal(locks.length, 1, 'the ticket dispenser itself is not a lock');
  const l = locks[0]!;
  assert.equal(l.id, 'B:4');
  assert.equal(l.shape, 'ticket');
  assert.equal(l.acquisitions, 2);
  assert.equal(l.contended, 1);
  assert.equal(l.waitMs, 0.007);
  assert.equal(l.spinMs, 0.001);
  assert.equal(l.holdMs, 0.016);
  assert.equal(wakeups.length, 1);
});

test('a CAS-claimed work counter is not a lock', () => {
  const [main, w1, w2] = threads(3);
  const ops: [number, number, number, number, number, number, number][] = [];
  for (let i = 0; i < 10; i++) ops.push([i * 2, CAS_OK, 0, i + 1, i, 0, 9]);
  atoms(w1!, ops.filter((_, k) => k % 2 === 0));
  atoms(w2!, ops.filter((_, k) => k % 2 === 1));
  assert.deepEqual(analyseLocks(run(main!, w1!, w2!)).locks, []);
});

/** Thread acquires lock at offset a then b (CAS 0→1), then releases both. */
function nested(t: ReturnType<typeof thread>, us: number, offs: number[], line: number) {
  const ops: [number, number, number, number, number, number, number][] = [];
  offs.forEach((off, k) => ops.push([us + k, CAS_OK, off, 1, 0, 0, line + k]));
  [...offs].reverse().forEach((off, k) => ops.push([us + 10 + k, STORE, off, 0, 1, 0, line + 5 + k]));
  atoms(t, ops);
}

test('lock-order inversion across two threads is reported even though the run did not hang', () => {
  const [main, w1, w2] = threads(3);
  nested(w1!, 0, [0, 4], 30);
  nested(w2!, 100, [4, 0], 40);
  const { deadlocks } = analyseLocks(run(main!, w1!, w2!));
  assert.equal(deadlocks.length, 1);
  const d = deadlocks[0]!;
  assert.equal(d.kind, 'lock-order');
  assert.deepEqual(d.threadIds, [1, 2]);
  assert.deepEqual(d.locks, ['B:0', 'B:4']);
  assert.deepEqual(
    d.sites.map((s) => [s.threadId, s.line, s.role]),
    [
      [1, 30, 'holds B:0'],
      [1, 31, 'acquires B:4'],
      [2, 40, 'holds B:4'],
      [2, 41, 'acquires B:0'],
    ],
  );
  assert.match(d.message, /thread 1 takes lock main\.js:3@0 \(at main\.js:30\) then lock main\.js:3@4 \(at main\.js:31\)/);
});

test('opposite orders under a common gate lock, or in one thread, are not reported', () => {
  const [main, w1, w2] = threads(3);
  nested(w1!, 0, [8, 0, 4], 30);
  nested(w2!, 100, [8, 4, 0], 40);
  assert.deepEqual(analyseLocks(run(main!, w1!, w2!)).deadlocks, []);
  const [m2, x1] = threads(2);
  nested(x1!, 0, [0, 4], 30);
  nested(x1!, 100, [4, 0], 40);
  assert.deepEqual(analyseLocks(run(m2!, x1!)).deadlocks, []);
});

test('a watchdog deadlock record becomes a cycle report with waiting and holding sites', () => {
  const [main, w1, w2] = threads(3);
  for (const [t, line] of [
    [w1!, 50],
    [w2!, 60],
  ] as const) {
    t.modules.get(1)!.sites[3 * (line * 1000 + 1)] = line;
    t.modules.get(1)!.sites[3 * (line * 1000 + 1) + 1] = 1;
    t.modules.get(1)!.sites[3 * ((line + 1) * 1000 + 1)] = line + 1;
    t.modules.get(1)!.sites[3 * ((line + 1) * 1000 + 1) + 1] = 1;
  }
  main!.deadlocks.push({
    k: 'deadlock',
    us: 1000,
    threads: [
      { tid: 0, waiting: null, holds: [], idle: true },
      { tid: 1, waiting: { buf: 'B', off: 4, site: site(51), sinceUs: 10 }, holds: [{ buf: 'B', off: 0, site: site(50) }], idle: false },
      { tid: 2, waiting: { buf: 'B', off: 0, site: site(61), sinceUs: 11 }, holds: [{ buf: 'B', off: 4, site: site(60) }], idle: false },
    ],
  });
  const { deadlocks } = analyseLocks(run(main!, w1!, w2!));
  assert.equal(deadlocks.length, 1);
  const d = deadlocks[0]!;
  assert.equal(d.kind, 'cycle');
  assert.deepEqual(d.threadIds, [1, 2]);
  assert.deepEqual(d.locks, ['B:4', 'B:0']);
  assert.deepEqual(
    d.sites.map((s) => [s.threadId, s.line, s.role]),
    [
      [1, 51, 'waits'],
      [1, 50, 'holds B:0'],
      [2, 61, 'waits'],
      [2, 60, 'holds B:4'],
    ],
  );
  assert.match(d.message, /thread 1 waits at main\.js:51 for lock main\.js:3@4 held by thread 2 while holding lock main\.js:3@0 \(taken at main\.js:50\)/);
});

test('deadlock sites name who called the lock helper, from the stacks the threads recorded there', () => {
  const [main, w1, w2] = threads(3);
  for (const t of [w1!, w2!]) {
    for (const line of [13, 9]) {
      t.modules.get(1)!.sites[3 * (line * 1000 + 1)] = line;
      t.modules.get(1)!.sites[3 * (line * 1000 + 1) + 1] = 1;
    }
  }
  // The helper in mutex.js waits at line 13 and acquires at line 9; app.js called it.
  w1!.stacks.set(site(13), ['lock (/x/mutex.js:13:7)', 'work (/x/app.js:22:3)', 'Module._compile (node:internal/modules/cjs/loader:1:1)']);
  w1!.stacks.set(site(9), ['lock (/x/mutex.js:9:5)', 'work (/x/app.js:20:3)']);
  w2!.stacks.set(site(13), ['lock (/x/mutex.js:13:7)', 'other (/x/app.js:40:3)']);
  main!.deadlocks.push({
    k: 'deadlock',
    us: 1000,
    threads: [
      { tid: 1, waiting: { buf: 'B', off: 4, site: site(13), sinceUs: 10 }, holds: [{ buf: 'B', off: 0, site: site(9) }], idle: false },
      // Thread 2 holds nothing thread 1 does not already wait for: no cycle, but thread 1's lock is held.
      { tid: 2, waiting: { buf: 'B', off: 8, site: site(13), sinceUs: 11 }, holds: [{ buf: 'B', off: 4, site: site(9) }], idle: false },
    ],
  });
  const [d] = analyseLocks(run(main!, w1!, w2!)).deadlocks;
  const rows = d!.sites.map((x) => [x.threadId, x.line, x.role]);
  assert.deepEqual(rows.slice(0, 4), [
    [1, 13, 'waits'],
    [1, 22, 'waits: called from'],
    [1, 9, 'holds B:0'],
    [1, 20, 'holds B:0: called from'],
  ]);
  assert.match(d!.message, /thread 1 waits at main\.js:13 \(called from app\.js:22\) for lock main\.js:3@4 held by thread 2/);
  assert.match(d!.message, /^Every live thread was blocked, with no cycle of held locks/);
});

test('a three-lock cycle over three threads is one lock-order report', () => {
  const [main, w1, w2, w3] = threads(4);
  nested(w1!, 0, [0, 4], 30);
  nested(w2!, 100, [4, 8], 40);
  nested(w3!, 200, [8, 0], 50);
  const { deadlocks } = analyseLocks(run(main!, w1!, w2!, w3!));
  assert.equal(deadlocks.length, 1);
  assert.deepEqual(deadlocks[0]!.locks, ['B:0', 'B:4', 'B:8']);
  assert.deepEqual(deadlocks[0]!.threadIds, [1, 2, 3]);
});

test('every thread blocked without a cycle of held locks is reported as a lost wake-up', () => {
  const [main, w1] = threads(2);
  main!.deadlocks.push({
    k: 'deadlock',
    us: 1000,
    threads: [
      { tid: 0, waiting: null, holds: [], idle: true },
      { tid: 1, waiting: { buf: 'B', off: 12, site: site(70), sinceUs: 10 }, holds: [], idle: false },
    ],
  });
  const { deadlocks } = analyseLocks(run(main!, w1!));
  assert.equal(deadlocks.length, 1);
  assert.equal(deadlocks[0]!.kind, 'cycle');
  assert.deepEqual(deadlocks[0]!.threadIds, [1]);
  assert.match(deadlocks[0]!.message, /no thread holds what another waits for/);
});

test('a thread blocked on a lock whose holder ended without releasing it: the report names that holder', () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [[10, CAS_OK, 12, 1, 0, 0, 40]]); // takes the lock at line 40, then exits holding it
  atoms(w2!, [
    [20, CAS_FAIL, 12, 1, 1, 0, 40],
    [21, WAIT, 12, 1, OK, 0, 41],
  ]);
  main!.deadlocks.push({
    k: 'deadlock',
    us: 1000,
    threads: [
      { tid: 0, waiting: null, holds: [], idle: true },
      { tid: 2, waiting: { buf: 'B', off: 12, site: site(41), sinceUs: 21 }, holds: [], idle: false },
    ],
  });
  const { deadlocks } = analyseLocks(run(main!, w1!, w2!));
  assert.equal(deadlocks.length, 1);
  assert.match(deadlocks[0]!.message, /holder is gone: thread 1 took lock main.js:3@12 at main\.js:40 and ended without releasing it; thread 2 waits at main\.js:41/);
  assert.ok(deadlocks[0]!.sites.some((x) => x.threadId === 1 && x.line === 40 && /ended holding it/.test(x.role ?? '')));
});

test('the same deadlock noticed by two threads is reported once', () => {
  const [main, w1, w2] = threads(3);
  const rec = {
    k: 'deadlock' as const,
    us: 1000,
    threads: [
      { tid: 1, waiting: { buf: 'B', off: 4, site: 0, sinceUs: 10 }, holds: [{ buf: 'B', off: 0, site: 0 }], idle: false },
      { tid: 2, waiting: { buf: 'B', off: 0, site: 0, sinceUs: 11 }, holds: [{ buf: 'B', off: 4, site: 0 }], idle: false },
    ],
  };
  main!.deadlocks.push(rec);
  w1!.deadlocks.push({ ...rec, us: 1001 });
  assert.equal(analyseLocks(run(main!, w1!, w2!)).deadlocks.length, 1);
});

test("a barrier's generation counter is not mistaken for a ticket lock", () => {
  const [main, w1, w2, w3] = threads(4);
  // Three rounds; the last arriver of round 2 got arrival index 2 == the generation it bumps.
  for (const [t, rounds] of [
    [w1!, [0, 0, 2]],
    [w2!, [1, 1, 0]],
    [w3!, [2, 2, 1]],
  ] as const) {
    const ops: [number, number, number, number, number, number, number][] = [];
    rounds.forEach((arrival, gen) => {
      const us = gen * 100 + t.tid;
      ops.push([us, LOAD, 4, 0, gen, 0, 10]);
      ops.push([us + 1, ADD, 0, 1, arrival, 0, 11]);
      if (arrival === 2) ops.push([us + 2, STORE, 0, 0, 0, 0, 12], [us + 3, ADD, 4, 1, gen, 0, 13], [us + 4, NOTIFY, 4, -1, 2, 0, 14]);
      else ops.push([us + 2, WAIT, 4, gen, OK, 50, 15], [us + 60, LOAD, 4, 0, gen + 1, 0, 16]);
    });
    atoms(t, ops);
  }
  const { locks, deadlocks } = analyseLocks(run(main!, w1!, w2!, w3!));
  assert.deepEqual(locks, []);
  assert.deepEqual(deadlocks, []);
});

test('threads stuck in a deadlock count their blocked time on the lock they wait for', () => {
  const [main, w1, w2] = threads(3);
  atoms(w1!, [[10, CAS_OK, 0, 1, 0, 0, 50]]);
  atoms(w2!, [
    [11, CAS_OK, 4, 1, 0, 0, 50],
    [20, CAS_FAIL, 0, 1, 1, 0, 50],
  ]);
  atoms(w1!, [[21, CAS_FAIL, 4, 1, 1, 0, 50]]);
  main!.deadlocks.push({
    k: 'deadlock',
    us: 2021,
    threads: [
      { tid: 1, waiting: { buf: 'B', off: 4, site: site(51), sinceUs: 21 }, holds: [{ buf: 'B', off: 0, site: site(50) }], idle: false },
      { tid: 2, waiting: { buf: 'B', off: 0, site: site(51), sinceUs: 21 }, holds: [{ buf: 'B', off: 4, site: site(50) }], idle: false },
    ],
  });
  const { locks } = analyseLocks(run(main!, w1!, w2!));
  assert.deepEqual(
    locks.map((l) => [l.id, l.shape, l.waitMs]),
    [
      ['B:0', 'mutex', 2],
      ['B:4', 'mutex', 2],
    ],
  );
});

/** The pairing as it was written first: scan every wait ending after the notify (quadratic). */
function scanPairs<T extends { thread: unknown; us: number; dur: number; res: number; lane: number }>(waits: T[], notifies: T[]): [T, T][] {
  const sorted = [...waits].sort((a, b) => a.us + a.dur - (b.us + b.dur) || a.lane - b.lane);
  const used = new Uint8Array(sorted.length);
  const out: [T, T][] = [];
  for (const n of notifies) {
    let woken = 0;
    for (let k = 0; k < sorted.length && woken < (n.res > 0 ? n.res : 1); k++) {
      const w = sorted[k]!;
      if (w.us + w.dur < n.us || used[k] || w.thread === n.thread || w.us > n.us) continue;
      used[k] = 1;
      woken++;
      out.push([n, w]);
    }
  }
  return out;
}

test('wake-up pairing takes the same waits as a full scan, on seeded random waits and notifies of three threads', () => {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const ts = ['a', 'b', 'c'] as const;
  for (let round = 0; round < 20; round++) {
    const op = (k: number) => {
      const lane = Math.floor(rnd() * 3);
      return { thread: ts[lane], lane, us: Math.floor(rnd() * 1000), dur: Math.floor(rnd() * 200), res: Math.floor(rnd() * 3), k };
    };
    const waits = Array.from({ length: 60 }, (_, k) => op(k));
    const notifies = Array.from({ length: 40 }, (_, k) => op(k));
    const ids = (pairs: [{ k: number }, { k: number }][]) => pairs.map(([n, w]) => `${n.k}>${w.k}`);
    assert.deepEqual(ids(pairWakeups(waits, notifies)), ids(scanPairs(waits, notifies)), `round ${round}`);
  }
});

test('5k wait/notify hand-offs where every other notify finds nobody parked: exact arrows, O(log n) work per notify', () => {
  const n = 5_000;
  const [main, w1] = threads(2);
  const waits: [number, number, number, number, number, number, number][] = [];
  const notifies: [number, number, number, number, number, number, number][] = [];
  for (let k = 0; k < n; k++) {
    waits.push([4 * k, WAIT, 0, 0, OK, 2, 5]);
    notifies.push([4 * k + 1, NOTIFY, 0, 1, 1, 0, 6], [4 * k + 3, NOTIFY, 0, 1, 0, 0, 6]);
  }
  atoms(w1!, waits);
  atoms(main!, notifies);
  const { wakeups } = analyseLocks(run(main!, w1!));
  assert.equal(wakeups.length, n);
  assert.deepEqual(wakeups[7], { fromThread: 0, fromMs: 0.029, toThread: 1, toMs: 0.03, lock: 'B:0' });

  const lane = (thread: string, lane: number) => (us: number, dur: number, res: number) => ({ thread, lane, us, dur, res });
  const w = lane('w', 1);
  const m = lane('m', 0);
  const stats = { visits: 0 };
  const pairs = pairWakeups(
    Array.from({ length: n }, (_, k) => w(4 * k, 2, OK)),
    Array.from({ length: 2 * n }, (_, j) => m(4 * (j >> 1) + (j & 1 ? 3 : 1), 0, j & 1 ? 0 : 1)),
    stats,
  );
  assert.equal(pairs.length, n);
  assert.ok(stats.visits < 2 * n * 4 * Math.log2(n), `${stats.visits} tree nodes looked at for ${2 * n} notifies`);
});
