/**
 * User semantics do not change under the agent: a 2-worker matmul over shared Float64Arrays
 * prints the same checksum, in race mode and in sampling mode, and its race-mode records
 * cover exactly the bytes each worker touched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind } from '../../src/protocol/events';
import { accesses, runAgent, runPlain } from './runAgent';

const N = 40;

test('matmul prints the same checksum with and without the agent', () => {
  const plain = runPlain('matmul.js', [String(N), '2']);
  assert.equal(plain.status, 0);
  for (const opts of [{}, { raceSample: 0.5 }, { races: false }]) {
    const run = runAgent('matmul.js', opts, [String(N), '2']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, plain.stdout, JSON.stringify(opts));
  }
});

test('each worker writes its half of C and reads all of B', () => {
  const run = runAgent('matmul.js', {}, [String(N), '2']);
  const workers = run.threads.filter((t) => t.of('thread')[0]?.kind === 'worker');
  assert.equal(workers.length, 2);
  const bytes = N * N * 8;
  const halves = workers.map((w) => {
    const ids = new Map(w.of('buf').map((b) => [b.idx, b.id]));
    const acc = accesses(w);
    const writes = acc.filter((a) => a.kind === AccessKind.Write);
    assert.equal(new Set(writes.map((a) => ids.get(a.buf))).size, 1, 'writes go to C only');
    const reads = acc.filter((a) => a.kind === AccessKind.Read);
    const readBytes = new Map<string, number>();
    for (const r of reads) readBytes.set(ids.get(r.buf)!, (readBytes.get(ids.get(r.buf)!) ?? 0) + r.len);
    assert.ok([...readBytes.values()].includes(bytes), 'one matrix (B) read whole');
    return writes.reduce((s, a) => s + a.len, 0);
  });
  assert.equal(halves[0]! + halves[1]!, bytes);
});
