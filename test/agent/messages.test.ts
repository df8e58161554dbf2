/** Message tagging is invisible to the program and pairs every send with its receipts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageRecord } from '../../src/protocol/events';
import { recordsOf, runAgent, runPlain, type AgentRun } from './runAgent';

/** Every send or receipt, named "pid.senderTid.seq" as the core pairs them. */
function messages(run: AgentRun, dir: 's' | 'r'): { tid: number; id: string; peer: number; channel: number; bytes: number | undefined }[] {
  const out: { tid: number; id: string; peer: number; channel: number; bytes: number | undefined }[] = [];
  for (const t of run.threads) {
    for (const m of recordsOf(t, 'msg') as MessageRecord[]) {
      if (m.dir !== dir) continue;
      assert.equal(m.id, undefined, 'no string ids');
      m.seq!.forEach((seq, i) => {
        const sender = dir === 's' ? t.info.tid : m.peer[i]!;
        const pid = m.pid?.[i] ?? t.info.pid;
        out.push({ tid: t.info.tid, id: `${pid}.${sender}.${seq}`, peer: m.peer[i]!, channel: m.channel[i]!, bytes: m.bytes?.[i] });
      });
    }
  }
  return out;
}

describe('agent: messages', () => {
  it('pairs every receipt with a send by id, on every channel kind', async () => {
    const run = await runAgent('threads.js');
    assert.equal(run.code, 0, run.stderr);
    const sends = messages(run, 's');
    const receipts = messages(run, 'r');
    const byId = new Map(sends.map((s) => [s.id, s]));
    assert.equal(byId.size, sends.length, 'ids are unique');
    for (const r of receipts) {
      const s = byId.get(r.id);
      assert.ok(s, `receipt ${r.id} has a send`);
      assert.equal(r.peer, s.tid, 'receiver knows the sender');
      assert.equal(r.bytes, undefined, 'receipts carry no size');
    }
    assert.ok(sends.every((s) => typeof s.bytes === 'number'));
    const channels = new Set(receipts.map((r) => r.channel));
    for (const ch of [0, 1, 2, 3]) assert.ok(channels.has(ch), `channel ${ch} seen: ${[...channels]}`);
    // every message of the program is received exactly once (broadcast has one listener)
    assert.equal(receipts.length, sends.length);
  });

  it('leaves program-visible semantics alone: Worker identity, workerData, transfer lists, SABs, ports', async () => {
    const plain = runPlain('semantics.js');
    const run = await runAgent('semantics.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, plain.stderr);
    assert.equal(run.stdout, plain.stdout);
    const out = JSON.parse(run.stdout.split('\n')[0]!);
    assert.deepEqual(out[0], ['instanceof', true, true, 'Worker', 'number']);
    assert.deepEqual(out[1], ['transferred', 0]);
    const worker = run.threads.find((t) => t.info.kind === 'worker')!;
    assert.equal(worker.info.name, 'semantic-worker');
    // the port moved inside a message still tags its sends
    const portSends = messages(run, 's').filter((s) => s.channel === 1);
    assert.equal(portSends.length, 1);
  });
});
