/** Message pairing: sends and receipts columnar, paired by sender pid, tid and seq. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageLog, MessageTable, pairMessages, type MessageThread } from '../../src/core/messages';
import type { MessageRecord } from '../../src/protocol/events';

function thread(id: number, pid: number, tid: number, ...records: Omit<MessageRecord, 'k'>[]): MessageThread {
  const msgs = new MessageLog(pid);
  for (const r of records) msgs.push({ k: 'msg', ...r });
  return { id, pid, tid, msgs };
}

const rows = (t: MessageTable) => Array.from({ length: t.length }, (_, i) => t.record(i));

test('receipts pair with their sends by seq; a broadcast pairs with each receipt; unreceived sends to a known peer stay', () => {
  const main = thread(0, 7, 0, { dir: 's', us: [1000, 2000, 3000, 4000], seq: [0, 1, 2, 3], peer: [1, -1, 1, 2], bytes: [8, 16, -1, 4], channel: [0, 2, 0, 0] });
  const w1 = thread(1, 7, 1, { dir: 'r', us: [1500, 3500, 2500], seq: [0, 2, 1], peer: [0, 0, 0], channel: [0, 0, 2] });
  const w2 = thread(2, 7, 2, { dir: 'r', us: [2600], seq: [1], peer: [0], channel: [2] });
  const t = pairMessages([main, w1, w2], 0);
  assert.deepEqual(rows(t), [
    { fromThreadId: 0, toThreadId: 1, sentMs: 1, receivedMs: 1.5, bytes: 8 },
    { fromThreadId: 0, toThreadId: 1, sentMs: 2, receivedMs: 2.5, bytes: 16 },
    { fromThreadId: 0, toThreadId: 2, sentMs: 2, receivedMs: 2.6, bytes: 16 },
    { fromThreadId: 0, toThreadId: 1, sentMs: 3, receivedMs: 3.5, bytes: null },
    { fromThreadId: 0, toThreadId: 2, sentMs: 4, receivedMs: null, bytes: 4 },
  ]);
  assert.equal(main.msgs.lastUs, 4000);
});

test('a receipt from another process names its pid; one whose sender left no file counts from its receipt', () => {
  const parent = thread(0, 7, 0, { dir: 's', us: [1000], seq: [0], peer: [-1], bytes: [3], channel: [4] });
  const child = thread(10000, 8, 0, { dir: 'r', us: [1200, 1300, 1400], seq: [0, 0, 5], peer: [0, 0, 0], channel: [4, 0, 4], pid: [7, 8, 7] });
  const t = pairMessages([parent, child], 0);
  assert.deepEqual(rows(t), [
    { fromThreadId: 0, toThreadId: 10000, sentMs: 1, receivedMs: 1.2, bytes: 3 },
    // pid 8 tid 0 is the child itself: seq 0 of its own sends does not exist.
    { fromThreadId: 10000, toThreadId: 10000, sentMs: 1.3, receivedMs: 1.3, bytes: null },
    { fromThreadId: 0, toThreadId: 10000, sentMs: 1.4, receivedMs: 1.4, bytes: null },
  ]);
});

test('older agents\' string ids pair the same; sends out of seq order are found', () => {
  const old = [
    thread(0, 7, 0, { dir: 's', us: [1000, 2000], id: ['7.0.1', '7.0.0'], peer: [1, 1], bytes: [8, 9], channel: [0, 0] }),
    thread(1, 7, 1, { dir: 'r', us: [2500, 1500], id: ['7.0.1', '7.0.0'], peer: [0, 0], bytes: [8, 9], channel: [0, 0] }),
  ];
  const now = [
    thread(0, 7, 0, { dir: 's', us: [1000, 2000], seq: [1, 0], peer: [1, 1], bytes: [8, 9], channel: [0, 0] }),
    thread(1, 7, 1, { dir: 'r', us: [2500, 1500], seq: [1, 0], peer: [0, 0], channel: [0, 0] }),
  ];
  const expected = [
    { fromThreadId: 0, toThreadId: 1, sentMs: 1, receivedMs: 2.5, bytes: 8 },
    { fromThreadId: 0, toThreadId: 1, sentMs: 2, receivedMs: 1.5, bytes: 9 },
  ];
  assert.deepEqual(rows(pairMessages(old, 0)), expected);
  assert.deepEqual(rows(pairMessages(now, 0)), expected);
});

test('a table thins evenly, like the report arrows, and round-trips report records', () => {
  const t = MessageTable.of(Array.from({ length: 10 }, (_, k) => ({ fromThreadId: 0, toThreadId: 1, sentMs: k, receivedMs: k % 2 ? null : k + 0.5, bytes: k % 3 ? k : null })));
  assert.deepEqual(t.thinned(4).map((m) => m.sentMs), [0, 2, 5, 7]);
  assert.deepEqual(t.thinned(20).map((m) => m.sentMs), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(t.record(3), { fromThreadId: 0, toThreadId: 1, sentMs: 3, receivedMs: null, bytes: null });
  assert.deepEqual(t.record(4), { fromThreadId: 0, toThreadId: 1, sentMs: 4, receivedMs: 4.5, bytes: 4 });
});
