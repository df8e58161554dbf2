/**
 * The walk that pairs shared buffers (and message ports) between a value and its structured
 * clone: same order on both, any depth, shared WebAssembly memory, bounded cost on big plain data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { walkCloneable } from '../../src/agent/cloneWalk';
import { walkShared } from '../../src/agent/shared/buffers';

/** Byte lengths of the SABs found, in walk order (distinct lengths name them). */
const found = (v: unknown): number[] => {
  const out: number[] = [];
  walkShared(v, (sab) => out.push(sab.byteLength));
  return out;
};

test('finds shared buffers at any depth, after many objects, in maps, sets, views and shared wasm memory, in the same order on the clone', () => {
  const sab = (n: number) => new SharedArrayBuffer(n);
  class Job {
    constructor(public out: SharedArrayBuffer) {}
  }
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const value = {
    jobs: Array.from({ length: 1500 }, (_, i) => ({ id: i, weight: i % 7 })),
    deep: { a: { b: { c: { d: { e: { f: sab(8) } } } } } },
    view: new Int32Array(sab(16), 4, 2),
    plain: new Float64Array(4),
    map: new Map<unknown, unknown>([[sab(24), 'key'], ['v', sab(32)]]),
    set: new Set([sab(40)]),
    job: new Job(sab(48)),
    memory,
    again: null as unknown,
  };
  value.again = value.deep; // shared structure is walked once
  const want = [8, 16, 24, 32, 40, 48, 65536];
  assert.deepEqual(found(value), want);
  assert.deepEqual(found(structuredClone(value)), want);
});

test('visits message ports nested anywhere', () => {
  const { port1, port2 } = new MessageChannel();
  const ports: unknown[] = [];
  walkCloneable({ channels: { results: [null, { port: port1 }] }, list: [port2] }, (v) => {
    if (v === port1 || v === port2) ports.push(v);
  });
  assert.deepEqual(ports, [port1, port2]);
  port1.close();
});

test('a big message of plain data costs a bounded walk', () => {
  const numbers = Array.from({ length: 2_000_000 }, (_, i) => i);
  const objects = Array.from({ length: 300_000 }, (_, i) => ({ i }));
  let visited = 0;
  const t0 = performance.now();
  walkCloneable({ numbers, objects, text: 'x'.repeat(1 << 20) }, () => visited++);
  const ms = performance.now() - t0;
  assert.ok(visited < 200_000, `${visited} objects visited`);
  assert.ok(ms < 200, `${ms.toFixed(1)} ms`);
});
