/**
 * The watchdog ends a real two-lock deadlock: a `deadlock` record with both workers waiting on
 * the lock the other holds (with sites), every thread's data flushed, exit code 124.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOf, runAgent, sitesAt } from './runAgent';

const FIX = 'deadlock.js';

test('a two-lock deadlock ends through the watchdog with a deadlock record', () => {
  const started = Date.now();
  const run = runAgent(FIX, { deadlockTimeoutMs: 600 }, [], 20000);
  assert.equal(run.status, 124, `exit ${run.status}\n${run.stderr}`);
  assert.ok(Date.now() - started < 15000);
  const recs = run.threads.flatMap((t) => t.of('deadlock'));
  assert.equal(recs.length, 1, 'exactly one thread writes the record');
  const d = recs[0]!;
  const workers = d.threads.filter((t) => t.waiting);
  assert.equal(workers.length, 2);
  const main = d.threads.find((t) => t.tid === 0);
  assert.ok(main && main.idle && !main.waiting, 'the main thread is idle in its event loop');
  const worker = run.threads.find((t) => t.of('thread')[0]?.kind === 'worker')!;
  const waitSites = sitesAt(worker, FIX, lineOf(FIX, 'wait'));
  const acquireSites = sitesAt(worker, FIX, lineOf(FIX, 'acquire'));
  for (const w of workers) {
    assert.ok(waitSites.includes(w.waiting!.site), `waits at the wait line: ${JSON.stringify(w)}`);
    assert.equal(w.holds.length, 1);
    assert.ok(acquireSites.includes(w.holds[0]!.site));
    // Each waits for the lock the other one holds: a cycle.
    const other = workers.find((x) => x !== w)!;
    assert.equal(w.waiting!.buf, other.holds[0]!.buf);
    assert.equal(w.waiting!.off, other.holds[0]!.off);
  }
  // Both workers flushed their Atomics logs before the process ended.
  for (const t of run.threads.filter((x) => x.of('thread')[0]?.kind === 'worker')) assert.ok(t.of('atom').length > 0);
});
