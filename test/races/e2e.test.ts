/**
 * End-to-end: every program in test/fixtures/races runs under the real agent; racy-* must be
 * caught at exactly the marked lines, free-* (including real npm pools) must get no report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, agentMissing, describeRaces, expectedRaces, profileFixture, raceKey } from './fixtureRun';

const DIR = join(ROOT, 'test', 'fixtures', 'races');
const fixtures = readdirSync(DIR)
  .filter((f) => /^(racy|free)-.*\.(js|mjs|cjs|ts)$/.test(f))
  .sort();

/** How each fixture's program ended, checked apart from its races (a crash is a different bug). */
const outcomes = new Map<string, string>();

for (const name of fixtures) {
  const racy = name.startsWith('racy-');
  const title = racy ? `catches the races of ${name} at the marked lines` : `reports no race in ${name}`;
  test(title, { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
    const file = join(DIR, name);
    const { report, output } = await profileFixture(file);
    const context = `\nreported:\n${describeRaces(report.races)}\nwarnings: ${report.warnings.join(' | ')}\noutput: ${output.slice(-600)}`;
    outcomes.set(name, `${report.program.outcome}${report.program.signal ? ` (${report.program.signal})` : ''}`);
    assert.ok(output.trim().length > 0, `the program printed nothing (did it run to its end?)${context}`);
    assert.deepEqual([...new Set(report.races.map(raceKey))].sort(), expectedRaces(file), `race sites differ${context}`);
    for (const r of report.races) {
      assert.ok(r.count >= 1);
      assert.ok(r.byteLength > 0);
      for (const a of r.accesses) if (a.threadId !== 0) assert.ok(a.threadCreatedAt, `no creation site for thread ${a.threadId}${context}`);
    }
  });
}

test('a race report names both threads, their creation line and the allocation line', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const { report } = await profileFixture(join(DIR, 'racy-counter.js'));
  assert.equal(report.races.length, 1);
  const r = report.races[0]!;
  assert.equal(r.kind, 'write-write');
  assert.equal(r.byteOffset, 0);
  assert.equal(r.byteLength, 4);
  assert.notEqual(r.accesses[0]!.threadId, r.accesses[1]!.threadId);
  for (const a of r.accesses) {
    assert.equal(a.threadCreatedAt?.line, 9);
    assert.ok(a.stack.length >= 1, 'stack of the access');
  }
  assert.equal(r.bufferInfo?.allocatedAt?.line, 5);
  assert.equal(r.bufferInfo?.byteLength, 16);
  assert.equal(r.bufferInfo?.elementType, 'Int32Array', 'the view type of both accesses');
});

test('a pool of eval workers from one code string is one source: one report per race, one row per function', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const { report } = await profileFixture(join(DIR, 'racy-eval-pool.js'));
  assert.equal(report.threads.filter((t) => t.kind === 'worker').length, 3);
  assert.equal(report.races.length, 1, describeRaces(report.races));
  const files = new Set(report.races[0]!.accesses.map((a) => a.file));
  assert.equal(files.size, 1, 'both accesses name the same eval source');
  const merged = report.functions.filter((f) => f.threadId === -1 && f.name === 'task');
  assert.deepEqual(
    merged.map((f) => f.ncalls),
    [12],
    'four rounds of three tasks, in one merged row',
  );
});

test('a function sent as text and rebuilt with new Function (workerpool\'s exec) is checked and counted', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const { report } = await profileFixture(join(DIR, 'racy-function-text.js'));
  assert.equal(report.races.length, 1, describeRaces(report.races));
  const files = new Set(report.races[0]!.accesses.map((a) => a.file));
  assert.equal(files.size, 1, 'both accesses name the same Function code');
  assert.match([...files][0]!, /^\[function [0-9a-f]{8}\]$/);
  // Rows with counts: which sampled-only rows appear (the profiler's wrapper) depends on where samples land.
  const merged = report.functions.filter((f) => f.threadId === -1 && f.file === [...files][0] && f.ncalls !== null);
  assert.deepEqual(
    merged.map((f) => [f.name, f.ncalls]).sort(),
    [
      ['anonymous', 2],
      ['racyAdd', 2],
    ],
    'one call of the built function and of the task in each of two workers',
  );
  assert.ok(!report.warnings.some((w) => w.includes('compiled from a string')), report.warnings.join(' | '));
});

test('each element type is named in its race report', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const { report } = await profileFixture(join(DIR, 'racy-elemtypes.js'));
  const types = report.races.map((r) => r.bufferInfo?.elementType).sort();
  const all = ['BigInt64Array', 'BigUint64Array', 'Float32Array', 'Float64Array', 'Int16Array', 'Int32Array', 'Int8Array'];
  assert.deepEqual(types, [...all, 'Uint16Array', 'Uint32Array', 'Uint8Array', 'Uint8ClampedArray'].sort());
});

test('every fixture program ends normally under the profiler', { skip: agentMissing() ?? false }, () => {
  const bad = [...outcomes].filter(([, o]) => o !== 'exited');
  assert.deepEqual(bad, [], 'programs that did not exit normally');
});

test('Atomics.wait returns what Node returns: a value changed without a notify still times out', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const { output } = await profileFixture(join(DIR, 'free-wait-store-without-notify.js'));
  assert.match(output, /timed-out after the timeout/);
});
