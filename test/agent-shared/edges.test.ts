/**
 * Happens-before edges and buffer identity across threads: the child's first segment starts
 * from the parent's clock (spawn), a message receipt joins the sender's clock, a worker's exit
 * joins its last clock into the parent, and every thread names the buffer with the same id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accesses, clockAt, lineOf, runAgent, runPlain, sitesAt, type AgentRun, type ThreadRecords } from './runAgent';

const FIX = 'edges.js';
let run: AgentRun;
let main: ThreadRecords;
let child: ThreadRecords;

function accessAt(t: ThreadRecords, tag: string) {
  const sites = sitesAt(t, FIX, lineOf(FIX, tag));
  const a = accesses(t).filter((x) => sites.includes(x.site));
  assert.ok(a.length > 0, `no access recorded at @${tag}`);
  return a[a.length - 1]!;
}

function slot(t: ThreadRecords): number {
  const r = t.of('tidx')[0];
  assert.ok(r, `thread ${t.tid} has no tidx record`);
  return r.idx;
}

test('edges fixture runs under the agent with unchanged output', () => {
  const plain = runPlain(FIX);
  run = runAgent(FIX);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
  main = run.threads.find((t) => t.of('thread')[0]?.kind === 'main')!;
  child = run.threads.find((t) => t.of('thread')[0]?.kind === 'worker')!;
  assert.ok(main && child);
});

test('threads get distinct dense vector-clock slots', () => {
  assert.equal(slot(main), 0);
  assert.equal(slot(child), 1);
});

test("a child's first segment includes the parent's epoch before the spawn", () => {
  const before = accessAt(main, 'parent-before-spawn');
  const first = child.of('seg')[0]!;
  const parentEpoch = clockAt(before.vc, slot(main));
  assert.ok(parentEpoch > 0);
  assert.ok(clockAt(first.vc, slot(main)) >= parentEpoch);
});

test("a message receipt joins the sender's clock, and later child writes are not ordered before it", () => {
  const write = accessAt(child, 'child-write');
  const afterSend = accessAt(child, 'child-after-send');
  const recv = accessAt(main, 'parent-after-message');
  const c = slot(child);
  assert.ok(clockAt(recv.vc, c) >= clockAt(write.vc, c), 'receipt is after the write before the send');
  assert.ok(clockAt(recv.vc, c) < clockAt(afterSend.vc, c), 'a write after the send is concurrent with the receipt');
});

test('a MessagePort message and the worker exit are edges too', () => {
  const c = slot(child);
  const afterSend = accessAt(child, 'child-after-send');
  const port = accessAt(main, 'parent-after-port');
  assert.ok(clockAt(port.vc, c) >= clockAt(afterSend.vc, c));
  const beforeExit = accessAt(child, 'child-before-exit');
  const joined = accessAt(main, 'parent-after-join');
  assert.ok(clockAt(joined.vc, c) >= clockAt(beforeExit.vc, c));
});

test('the buffer has one id in both threads, through workerData and messages', () => {
  const ids = (t: ThreadRecords) => new Set(t.of('buf').map((b) => b.id));
  assert.deepEqual([...ids(main)], [...ids(child)]);
  assert.equal(ids(main).size, 1);
  assert.equal(main.of('buf').length, 1, 'a clone coming back maps to the same buffer index');
  const origin = main.of('buf')[0]!;
  assert.equal(origin.origin, true);
  assert.equal(child.of('buf')[0]!.origin, false);
  // Every access of both threads is on that one buffer.
  for (const t of [main, child]) for (const a of accesses(t)) assert.equal(t.of('buf').find((b) => b.idx === a.buf)?.id, origin.id);
});
