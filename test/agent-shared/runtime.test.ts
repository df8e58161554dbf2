/**
 * The shared-memory runtime with a fake AgentContext in this process: buffer ids survive a
 * structured clone in walk order, a buffer whose stamps would pass the shadow-memory cap goes
 * without them (one warning) instead of growing, and race sampling keeps roughly the asked share
 * of segments.
 */
import { test } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import assert from 'node:assert/strict';
import type { AgentOptions, AgentRecord } from '../../src/protocol/events';
import type { AgentContext } from '../../src/agent/extension';
import { BufferRegistry } from '../../src/agent/shared/buffers';
import { createSharedExtension } from '../../src/agent/shared/index';
import { segmentsOf } from './runAgent';

function fakeContext(opts: Partial<AgentOptions>, tid = 0): { ctx: AgentContext; records: AgentRecord[] } {
  const records: AgentRecord[] = [];
  const options = {
    runDir: '', sampleIntervalUs: 1000, counts: false, races: true, raceSample: null, instrumentDeps: false, locks: true,
    deadlockTimeoutMs: 0, flushIntervalMs: 1000, backend: 'inspector', v8ProfilerPath: null, shadowCapMiB: 256, ...opts,
  } as AgentOptions;
  const ctx: AgentContext = {
    options, pid: 42, tid, isMain: tid === 0,
    now: () => Number(process.hrtime.bigint()) / 1000,
    write: (r) => records.push(r),
    flush: () => undefined,
    siteId: (fid, local) => fid * 2 ** 20 + local,
    captureStack: () => ['here (file.js:1:1)'],
  };
  return { ctx, records };
}

test('buffer ids survive a structured clone through nested objects, arrays, maps and sets', () => {
  const a = new SharedArrayBuffer(8);
  const b = new SharedArrayBuffer(16);
  const c = new SharedArrayBuffer(24);
  const value = { x: [new Int32Array(a), { deep: b }], m: new Map([['k', new Float64Array(c, 8)]]), s: new Set([a]), plain: new Float64Array(4) };
  const sender = new BufferRegistry(fakeContext({}, 0).ctx);
  const ids = sender.idsOf(value);
  assert.deepEqual(ids, ['42.0.0', '42.0.1', '42.0.2', '42.0.0']);
  const { ctx, records } = fakeContext({}, 7);
  const receiver = new BufferRegistry(ctx);
  // A message's clone (the agent's structuredClone keeps ids within a thread; a port's copy is the message path).
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(value);
  const clone = receiveMessageOnPort(port2)!.message as typeof value;
  port1.close();
  receiver.adopt(clone, ids);
  assert.equal(receiver.peek(clone.x[1] && (clone.x[1] as any).deep)!.id, '42.0.1');
  assert.equal(receiver.peek((clone.m.get('k') as Float64Array).buffer as SharedArrayBuffer)!.id, '42.0.2');
  const bufs = records.filter((r) => r.k === 'buf');
  assert.deepEqual(bufs.map((r) => (r as any).id), ['42.0.0', '42.0.1', '42.0.2']);
  assert.ok(bufs.every((r) => (r as any).origin === false));
});

test('a buffer whose stamps would pass the shadow-memory cap goes without them, with one warning, missing nothing', () => {
  const { ctx, records } = fakeContext({ shadowCapMiB: 0.01 });
  const ext = createSharedExtension(ctx)!;
  ext.threadStart(undefined, undefined);
  const m = Object.assign(Object.create(ext.moduleProto!), { fid: 1 });
  const big = new Float64Array(new SharedArrayBuffer(1 << 16));
  let sum = 0;
  for (let i = 0; i < big.length; i++) sum += big[m.r(big, i, 0)]!;
  assert.equal(sum, 0);
  ext.flush(true);
  const warns = records.filter((r) => r.k === 'warn');
  assert.equal(warns.length, 1);
  assert.match((warns[0] as any).msg, /without the same-segment shortcut/);
  const segs = segmentsOf(records);
  assert.deepEqual(segs.flatMap((s) => s.len), [1 << 16], 'every element read, as one run');
  assert.ok(segs.every((s) => s.sampled === undefined), 'not degraded to sampling');
});

test('race sampling keeps about the asked share of segments', () => {
  const { ctx, records } = fakeContext({ raceSample: 0.5 });
  const ext = createSharedExtension(ctx)!;
  ext.threadStart(undefined, undefined);
  const m = Object.assign(Object.create(ext.moduleProto!), { fid: 1 });
  const a = new Int32Array(new SharedArrayBuffer(64));
  for (let s = 0; s < 400; s++) {
    a[m.w(a, s % 16, 0)] = s;
    ext.beforeSend(null); // a send ends the segment
  }
  ext.flush(true);
  const segs = segmentsOf(records).length;
  assert.ok(segs > 120 && segs < 280, `${segs} of 400 segments kept at rate 0.5`);
});
