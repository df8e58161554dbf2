/**
 * Hoisted loops (accesses checked once per loop run) record exactly the elements the loop
 * touches: contiguous runs, strided elements, ranges clipped to the array, read+write for
 * compound ops, subarray offsets; loops with conditional bodies stay per access.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind } from '../../src/protocol/events';
import { accesses, accessesAt, lineOf, runAgent, runPlain, sitesAt, type AgentRun } from './runAgent';

const FIX = 'loops.js';
let run: AgentRun;
const R = AccessKind.Read;
const W = AccessKind.Write;

const at = (tag: string) => accessesAt(run, FIX, tag);

test('loops fixture runs under the agent with unchanged output', () => {
  const plain = runPlain(FIX);
  run = runAgent(FIX);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
});

test('a contiguous loop is one run', () => {
  assert.deepEqual(at('contiguous'), [{ off: 8, len: 32, kind: W }]);
});

test('a strided loop records each element it reads', () => {
  assert.deepEqual(at('strided'), [1, 5, 9, 13].map((i) => ({ off: i * 8, len: 8, kind: R })));
});

test('walking every column of a matrix is one range; walking some columns is a run per row', () => {
  assert.deepEqual(at('columns'), [{ off: 0, len: 128, kind: R }]);
  assert.deepEqual(at('half-columns'), [0, 32, 64, 96].map((off) => ({ off, len: 16, kind: R })));
});

test('indices past the end are not accesses', () => {
  assert.deepEqual(at('clipped'), [{ off: 14 * 8, len: 16, kind: R }]);
});

test('compound assignment in a hoisted loop is read and write', () => {
  assert.deepEqual(at('compound'), [
    { off: 0, len: 16, kind: R },
    { off: 0, len: 16, kind: W },
  ]);
});

test('a conditional body is recorded per access: only the element written', () => {
  assert.deepEqual(at('conditional'), [{ off: 8, len: 4, kind: W }]);
});

test('a hoisted loop over a subarray adds its offset', () => {
  assert.deepEqual(at('subview'), [{ off: 16, len: 8, kind: R }]);
});

test('a spread and a for-of over a shared view read all of it; a for-of that may break reads what it reaches', () => {
  assert.deepEqual(at('spread'), [{ off: 16, len: 48, kind: R }]);
  assert.deepEqual(at('forof'), [{ off: 0, len: 128, kind: R }]);
  assert.deepEqual(at('forof-break'), [{ off: 0, len: 64, kind: R }], 'no element is over 100: it reads all 16');
});

test('one hoisted loop over several views in one segment records each view', () => {
  const r = runAgent('loop-helper.js');
  assert.equal(r.status, 0, r.stderr);
  const main = r.thread(0);
  const sites = sitesAt(main, 'loop-helper.js', lineOf('loop-helper.js', 'clear'));
  const got = accesses(main)
    .filter((a) => sites.includes(a.site))
    .map((a) => [a.buf, a.off, a.len])
    .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
  // Buffers in order of first use: a, b, c (its two chunks merge into one run); a again adds nothing.
  assert.deepEqual(got, [
    [0, 0, 16],
    [1, 0, 16],
    [2, 0, 32],
  ]);
});
