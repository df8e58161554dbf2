/**
 * End-to-end: lock, wake-up, message and deadlock programs in test/fixtures/locks run under the
 * real agent; the numbers in the report must tell the hot lock from private ones, recognise
 * each lock shape, and the watchdog must end a real deadlock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { ROOT, agentMissing, describeRaces, profileFixture } from '../races/fixtureRun';
import type { LockReport } from '../../src/protocol/report';

const DIR = join(ROOT, 'test', 'fixtures', 'locks');
const opts = { skip: agentMissing() ?? false, timeout: 90_000 };
const run = (name: string, extra = {}) => profileFixture(join(DIR, name), extra);
const show = (locks: LockReport[]) => JSON.stringify(locks.map(({ sites: _s, ...l }) => l));

test('one hot mutex shared by 4 workers is contended far more than a lock per worker', { ...opts, timeout: 240_000 }, async () => {
  const hot = (await run('hot-mutex.js')).report;
  const cold = (await run('lock-per-worker.js')).report;
  assert.deepEqual(hot.races, [], describeRaces(hot.races));
  assert.deepEqual(cold.races, [], describeRaces(cold.races));
  assert.equal(hot.locks.length, 1, show(hot.locks));
  const h = hot.locks[0]!;
  assert.equal(h.byteOffset, 0);
  assert.equal(h.shape, 'mutex');
  assert.equal(h.acquisitions, 20000);
  assert.equal(cold.locks.length, 4, show(cold.locks));
  for (const l of cold.locks) assert.equal(l.acquisitions, 5000);
  for (const l of cold.locks) assert.equal(l.shape, 'mutex', 'an uncontended futex mutex is still a mutex');
  const coldContended = cold.locks.reduce((s, l) => s + l.contended, 0);
  assert.equal(coldContended, 0, show(cold.locks));
  // A futex mutex lets the releaser barge back in, so most acquisitions stay uncontended while
  // the others sleep: the blocked time is the telling number, the count only has to be clear.
  assert.ok(h.contended >= 20, `hot lock contended only ${h.contended} times`);
  assert.ok(h.waitMs + h.spinMs >= 10, `hot lock blocked only ${h.waitMs + h.spinMs} ms`);
  assert.equal(cold.locks.reduce((s, l) => s + l.waitMs + l.spinMs, 0), 0);
  assert.ok(h.holdMs > 0);
  const roles = new Set(h.sites.map((s) => s.role));
  for (const role of ['acquire', 'release', 'wait'] as const) assert.ok(roles.has(role), `no ${role} site`);
  for (const s of h.sites) assert.equal(basename(s.file), '_mutex.js');
  assert.ok(
    h.sites.some((s) => s.role === 'release' && s.waitMs > 0),
    'contention is charged to the releasers',
  );
});

test('a spin lock is recognised, with spin time and no wait time', opts, async () => {
  const { report } = await run('spinlock.js');
  assert.deepEqual(report.races, [], describeRaces(report.races));
  const l = report.locks.find((x) => x.byteOffset === 0);
  assert.ok(l, show(report.locks));
  assert.equal(l.shape, 'spinlock');
  assert.equal(l.acquisitions, 6000);
  assert.equal(l.waitMs, 0);
});

test('a counting semaphore is recognised', opts, async () => {
  const { report } = await run('semaphore.js');
  const l = report.locks.find((x) => x.byteOffset === 0);
  assert.ok(l, show(report.locks));
  assert.equal(l.shape, 'semaphore');
  assert.equal(l.acquisitions, 2000);
});

test('a ticket lock is recognised on its now-serving word', opts, async () => {
  const { report } = await run('ticket-lock.js');
  assert.deepEqual(report.races, [], describeRaces(report.races));
  assert.equal(report.locks.length, 1, show(report.locks));
  const l = report.locks[0]!;
  assert.equal(l.byteOffset, 4);
  assert.equal(l.shape, 'ticket');
  assert.equal(l.acquisitions, 3000);
});

test('a lock-order inversion is reported although the run did not hang', opts, async () => {
  const { report } = await run('lock-order.js');
  assert.equal(report.program.outcome, 'exited');
  const d = report.deadlocks.filter((x) => x.kind === 'lock-order');
  assert.equal(d.length, 1, JSON.stringify(report.deadlocks));
  assert.equal(d[0]!.threadIds.length, 2);
  assert.equal(d[0]!.locks.length, 2);
  assert.deepEqual(d[0]!.locks.map((l) => l.split(':').pop()).sort(), ['0', '4']);
  assert.match(d[0]!.message, /Lock-order inversion/);
});

test('opposite lock orders under a common gate lock are not reported', opts, async () => {
  const { report } = await run('lock-order-gated.js');
  assert.deepEqual(report.deadlocks, []);
});

test('a real two-lock deadlock is ended by the watchdog and reported as a cycle', opts, async () => {
  const { report } = await run('deadlock.js', { deadlockTimeoutMs: 1000, timeoutSec: 30 });
  assert.equal(report.program.outcome, 'deadlock');
  const d = report.deadlocks.find((x) => x.kind === 'cycle');
  assert.ok(d, JSON.stringify(report.deadlocks));
  assert.equal(d.threadIds.length, 2);
  assert.equal(d.locks.length, 2);
  const waits = d.sites.filter((s) => s.role === 'waits');
  assert.equal(waits.length, 2, JSON.stringify(d.sites));
  // Both block in lock()'s Atomics.wait (_mutex.js line 7) while holding what the other wants.
  for (const s of waits) assert.deepEqual([basename(s.file), s.line], ['_mutex.js', 7]);
  assert.ok(d.sites.some((s) => s.role?.startsWith('holds')));
  assert.match(d.message, /Deadlock: thread \d+ waits at/);
  // The two locks of the cycle carry the time their waiters were stuck (~ the watchdog timeout).
  for (const id of d.locks) {
    const l = report.locks.find((x) => x.id === id);
    assert.ok(l && l.waitMs >= 500, `lock ${id}: ${show(report.locks)}`);
  }
});

test('notify → wait hand-offs become wake-up arrows between the two threads', opts, async () => {
  const { report } = await run('notify-wait.js');
  const w = report.timeline.wakeups;
  assert.ok(w.length >= 40, `only ${w.length} wake-ups of 100 hand-overs`);
  // Which side actually sleeps in each turn depends on scheduling (a side whose condition already
  // holds never waits), so arrows may all run one way; each must join the two threads, forwards.
  for (const x of w) {
    assert.notEqual(x.fromThread, x.toThread, JSON.stringify(x));
    assert.ok(x.toMs >= x.fromMs, JSON.stringify(x));
  }
});

test('postMessage ping-pong becomes message arrows', opts, async () => {
  const { report } = await run('messages.js');
  const m = report.messages.filter((x) => x.receivedMs !== null);
  assert.ok(m.length >= 40, `only ${m.length} delivered messages`);
});

test('an Atomics barrier and an atomic counter are not reported as locks', opts, async () => {
  for (const name of ['free-barrier.js', 'free-atomic-counter.js']) {
    const { report } = await profileFixture(join(ROOT, 'test', 'fixtures', 'races', name));
    assert.deepEqual(report.locks, [], `${name}: ${show(report.locks)}`);
  }
});
