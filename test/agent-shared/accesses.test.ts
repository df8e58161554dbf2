/**
 * Element accesses on shared memory come out as the right byte ranges and kinds at the right
 * sites; accesses to non-shared memory, arrays and objects are not recorded; the program's
 * output does not change under the agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind } from '../../src/protocol/events';
import { accesses, lineOf, runAgent, runPlain, sitesAt, type AgentRun } from './runAgent';

const FIX = 'views.js';
let run: AgentRun;

function at(tag: string) {
  const main = run.thread(0);
  const sites = sitesAt(main, FIX, lineOf(FIX, tag));
  return accesses(main)
    .filter((a) => sites.includes(a.site))
    .map((a) => ({ off: a.off, len: a.len, kind: a.kind }))
    .sort((x, y) => x.kind - y.kind || x.off - y.off);
}

const R = AccessKind.Read;
const W = AccessKind.Write;

test('views fixture runs under the agent with unchanged output', () => {
  const plain = runPlain(FIX);
  run = runAgent(FIX);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
});

test('each element type gives its byte offset and size', () => {
  assert.deepEqual(at('i8w'), [{ off: 3, len: 1, kind: W }]);
  assert.deepEqual(at('u8r'), [{ off: 3, len: 1, kind: R }]);
  assert.deepEqual(at('c8w'), [{ off: 4, len: 1, kind: W }]);
  assert.deepEqual(at('i16w'), [{ off: 6, len: 2, kind: W }]);
  assert.deepEqual(at('u16r'), [{ off: 6, len: 2, kind: R }]);
  assert.deepEqual(at('i32w'), [{ off: 12, len: 4, kind: W }]);
  assert.deepEqual(at('u32r'), [{ off: 12, len: 4, kind: R }]);
  assert.deepEqual(at('f32w'), [{ off: 12, len: 4, kind: W }]);
  assert.deepEqual(at('f64w'), [{ off: 24, len: 8, kind: W }]);
  assert.deepEqual(at('f64r'), [{ off: 24, len: 8, kind: R }]);
  assert.deepEqual(at('b64w'), [{ off: 24, len: 8, kind: W }]);
  assert.deepEqual(at('bu64r'), [{ off: 24, len: 8, kind: R }]);
});

test('subarray and offset views add their byte offset', () => {
  assert.deepEqual(at('subw'), [{ off: 80 + 16, len: 8, kind: W }]);
  assert.deepEqual(at('destructure'), [
    { off: 128, len: 4, kind: W },
    { off: 140, len: 4, kind: W },
  ]);
});

test('compound assignment and ++ record a read and a write', () => {
  assert.deepEqual(at('compound'), [
    { off: 132, len: 4, kind: R },
    { off: 132, len: 4, kind: W },
  ]);
  assert.deepEqual(at('update'), [
    { off: 136, len: 4, kind: R },
    { off: 136, len: 4, kind: W },
  ]);
});

test('Reflect.get and Reflect.set on a view record the element', () => {
  assert.deepEqual(at('reflect-set'), [{ off: 240, len: 4, kind: W }]);
  assert.deepEqual(at('reflect-get'), [{ off: 252, len: 4, kind: R }]);
});

test('DataView get/set record their byte ranges', () => {
  assert.deepEqual(at('dvset'), [{ off: 208, len: 8, kind: W }]);
  assert.deepEqual(at('dvget'), [{ off: 202, len: 2, kind: R }]);
});

test('fill, set and copyWithin record the ranges they touch', () => {
  assert.deepEqual(at('fill'), [{ off: 64 + 4, len: 8, kind: W }]);
  assert.deepEqual(at('set'), [{ off: 64 + 16, len: 6, kind: W }]);
  assert.deepEqual(at('copywithin'), [
    { off: 64 + 16, len: 4, kind: R },
    { off: 64, len: 4, kind: W },
  ]);
});

test('non-shared typed arrays, arrays and objects are not recorded', () => {
  assert.deepEqual(at('plain'), []);
  assert.deepEqual(at('array'), []);
  assert.deepEqual(at('object'), []);
});

test('the buffer is named where it was allocated, and sites have stacks', () => {
  const main = run.thread(0);
  const bufs = main.of('buf');
  assert.equal(bufs.length, 1);
  assert.equal(bufs[0]!.byteLength, 256);
  assert.equal(bufs[0]!.origin, true);
  assert.equal(bufs[0]!.id, `${bufs[0]!.id.split('.')[0]}.0.0`);
  const alloc = sitesAt(main, FIX, lineOf(FIX, 'alloc'));
  assert.ok(alloc.includes(bufs[0]!.site!), 'allocation site is the `new SharedArrayBuffer` line');
  const stacks = main.of('stack');
  const s = stacks.find((x) => sitesAt(main, FIX, lineOf(FIX, 'f64w')).includes(x.site));
  assert.ok(s && s.frames.some((f) => f.includes(`views.js:${lineOf(FIX, 'f64w')}`)), JSON.stringify(s));
});

test('each line touching an element in one segment is recorded, and lines taking turns stay one run each', () => {
  const r = runAgent('sites.js');
  assert.equal(r.status, 0, r.stderr);
  const main = r.thread(0);
  const on = (tag: string) => {
    const sites = sitesAt(main, 'sites.js', lineOf('sites.js', tag));
    return accesses(main)
      .filter((a) => sites.includes(a.site))
      .map((a) => ({ off: a.off, len: a.len, kind: a.kind }));
  };
  assert.deepEqual(on('first'), [{ off: 0, len: 4, kind: R }]);
  assert.deepEqual(on('second'), [{ off: 0, len: 4, kind: R }]);
  assert.deepEqual(on('w1'), [{ off: 4, len: 4, kind: W }]);
  assert.deepEqual(on('w2'), [{ off: 4, len: 4, kind: W }]);
  assert.deepEqual(on('turnA'), [{ off: 8, len: 16, kind: R }]);
  assert.deepEqual(on('turnB'), [{ off: 8, len: 16, kind: R }]);
});
