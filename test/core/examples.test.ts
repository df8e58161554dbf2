// The bundled examples (examples/) profiled small: their own output proves they computed the
// right thing, the report proves every worker was seen with exact call counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { assertValidReport, fnRow, profileFixture } from './helpers';

const examples = join(__dirname, '..', '..', 'examples');
const T = { timeout: 180_000 };
const workersOf = (r: { threads: { kind: string; id: number; name: string }[] }) => r.threads.filter((t) => t.kind === 'worker');

test('matmul: one multiplyRows call per worker, named lanes', T, async () => {
  const { report: r, stdout } = await profileFixture(join(examples, 'matmul.js'), { args: ['48'], env: { WORKERS: '3' }, cwd: examples });
  assertValidReport(r);
  assert.match(stdout, /matmul 48x48 with 3 workers: checksum/);
  assert.deepEqual(workersOf(r).map((t) => t.name).sort(), ['matmul-0', 'matmul-1', 'matmul-2']);
  for (const w of workersOf(r)) assert.equal(fnRow(r, w.id, 'multiplyRows').ncalls, 1);
  assert.equal(fnRow(r, 0, 'fill').ncalls, 2);
  assert.equal(fnRow(r, 0, 'checksum').ncalls, 1);
});

test('primes (ESM): the sieve counts right and each worker sieves one segment', T, async () => {
  const { report: r, stdout } = await profileFixture(join(examples, 'primes.mjs'), { args: ['100000'], env: { WORKERS: '2' }, cwd: examples });
  assertValidReport(r);
  assert.match(stdout, /primes below 100000: 9592 \(2 workers\)/);
  assert.equal(workersOf(r).length, 2);
  for (const w of workersOf(r)) assert.equal(fnRow(r, w.id, 'sieveSegment').ncalls, 1);
  assert.equal(fnRow(r, 0, 'smallPrimes').ncalls, 1);
});

test('counter: lock/unlock called once per iteration per worker, the mutex is found', T, async () => {
  const { report: r, stdout } = await profileFixture(join(examples, 'counter.js'), { args: ['300'], env: { WORKERS: '2' }, cwd: examples });
  assertValidReport(r);
  assert.match(stdout, /count = 600 \(expected 600\)/);
  for (const w of workersOf(r)) {
    assert.equal(fnRow(r, w.id, 'lock').ncalls, 300);
    assert.equal(fnRow(r, w.id, 'unlock').ncalls, 300);
    assert.equal(fnRow(r, w.id, 'work').ncalls, 1);
  }
  assert.equal(fnRow(r, -1, 'criticalSection').ncalls, 600);
  assert.ok(r.locks.length >= 1, 'the futex mutex is recognised');
  assert.equal(r.races.length, 0, 'a correctly locked counter has no races');
});
