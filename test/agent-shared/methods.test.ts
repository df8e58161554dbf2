/**
 * Method calls and whole-view reads of shared memory (at, with, Buffer methods, reduce/join,
 * copies, iteration, destructuring) come out as the byte ranges they really touch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind } from '../../src/protocol/events';
import { accesses, lineOf, runAgent, runPlain, sitesAt, type AgentRun } from './runAgent';

const FIX = 'methods.js';
let run: AgentRun;
const R = AccessKind.Read;
const W = AccessKind.Write;

function at(tag: string) {
  const main = run.thread(0);
  const sites = sitesAt(main, FIX, lineOf(FIX, tag));
  assert.ok(sites.length > 0, `no site at @${tag}`);
  return accesses(main)
    .filter((a) => sites.includes(a.site))
    .map((a) => ({ off: a.off, len: a.len, kind: a.kind }))
    .sort((x, y) => x.kind - y.kind || x.off - y.off);
}

test('methods fixture runs under the agent with unchanged output', () => {
  const plain = runPlain(FIX);
  run = runAgent(FIX);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
});

test('at() reads one element (negative indexes from the end, nothing out of range); with() copies all', () => {
  assert.deepEqual(at('at'), [{ off: 8, len: 4, kind: R }]);
  assert.deepEqual(at('atneg'), [{ off: 28, len: 4, kind: R }]);
  assert.deepEqual(at('atout'), []);
  assert.deepEqual(at('with'), [{ off: 0, len: 32, kind: R }]);
});
