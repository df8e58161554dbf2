/**
 * Method calls and whole-view reads of shared memory (at, with, Buffer methods, reduce/join,
 * copies, iteration, destructuring) come out as the byte ranges they really touch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind } from '../../src/protocol/events';
import { accessesAt, runAgent, runPlain, type AgentRun } from './runAgent';

const FIX = 'methods.js';
let run: AgentRun;
const R = AccessKind.Read;
const W = AccessKind.Write;

const at = (tag: string) => accessesAt(run, FIX, tag);

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

test('whole-view readers, copies and destructuring record what they read', () => {
  const all = [{ off: 0, len: 32, kind: R }];
  assert.deepEqual(at('reduce'), all);
  assert.deepEqual(at('join'), all);
  assert.deepEqual(at('map'), all);
  assert.deepEqual(at('arrayfrom'), all);
  assert.deepEqual(at('copy'), all);
  assert.deepEqual(at('destructure'), [{ off: 0, len: 8, kind: R }]);
});

test('a for-of that may stop or synchronise records each element as it reads it', () => {
  assert.deepEqual(at('forofbreak'), [{ off: 0, len: 16, kind: R }]);
  assert.deepEqual(at('forofcall'), [{ off: 0, len: 32, kind: R }]);
});

test('Node Buffer methods on a shared buffer record the bytes they touch', () => {
  assert.deepEqual(at('bufwrite32'), [{ off: 68, len: 4, kind: W }]);
  assert.deepEqual(at('bufread32'), [{ off: 68, len: 4, kind: R }]);
  assert.deepEqual(at('bufreadsized'), [{ off: 72, len: 3, kind: R }]);
  assert.deepEqual(at('bufwritestr'), [{ off: 80, len: 5, kind: W }]);
  assert.deepEqual(at('buftostring'), [{ off: 80, len: 3, kind: R }]);
  assert.deepEqual(at('bufcopy'), [
    { off: 80, len: 4, kind: R },
    { off: 104, len: 4, kind: W },
  ]);
  assert.deepEqual(at('bufslice'), [], 'a Buffer slice is a view, not a read');
});

test('searches and predicates record the elements up to their match (all they searched when none)', () => {
  assert.deepEqual(at('indexof'), [{ off: 0, len: 12, kind: R }]);
  assert.deepEqual(at('indexofnone'), [{ off: 20, len: 12, kind: R }]);
  assert.deepEqual(at('lastindexof'), [{ off: 24, len: 8, kind: R }]);
  assert.deepEqual(at('lastundef'), [{ off: 0, len: 4, kind: R }], 'lastIndexOf(x, undefined) searches index 0 only');
  assert.deepEqual(at('includes'), [{ off: 8, len: 8, kind: R }]);
  assert.deepEqual(at('find'), [{ off: 0, len: 8, kind: R }]);
  assert.deepEqual(
    at('findlastidx').reduce((n, a) => n + a.len, 0),
    8,
    'findLastIndex reads the last two elements',
  );
  assert.deepEqual(at('bufindexof'), [{ off: 64, len: 21, kind: R }], 'a Buffer string search reads up to the end of its match');
});

test('entries() iteration and JSON.stringify read the whole view', () => {
  assert.deepEqual(at('entries'), [{ off: 0, len: 32, kind: R }]);
  assert.deepEqual(at('stringify'), [{ off: 0, len: 32, kind: R }]);
});

test('a method called through ?. records its range; on a missing object nothing runs', () => {
  assert.deepEqual(at('optfill'), [{ off: 24, len: 8, kind: W }]);
  assert.deepEqual(at('optnull'), []);
});

test('the same calls on plain arrays, sets and strings record nothing', () => {
  assert.deepEqual(at('plain'), []);
  assert.deepEqual(at('plainsearch'), []);
});
