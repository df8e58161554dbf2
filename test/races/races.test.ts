/** Unit tests of the race analysis on hand-built runs (no agent involved). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { analyseRaces } from '../../src/core/races';
import { run, segment, shareBuffer, site, thread, type Run } from './runBuilder';

const R = 0;
const W = 1;
const AR = 2;
const AW = 3;

/** Main (slot 0) spawns two workers (slots 1, 2) after writing nothing; workers start with main's clock. */
function twoWorkers() {
  const main = thread(0);
  const w1 = thread(1);
  const w2 = thread(2);
  for (const t of [main, w1, w2]) shareBuffer(t, 'B', 0, 64, t === main, t === main ? 3 : undefined);
  main.spawns.push({ k: 'spawn', us: 1, childTid: 1, entry: '/app/main.js', eval: false, site: site(7, 14), stack: [] });
  main.spawns.push({ k: 'spawn', us: 2, childTid: 2, entry: '/app/main.js', eval: false, site: null, stack: ['spawnAll (/app/main.js:8:3)'] });
  main.modules.get(1)!.sites[3 * (7 * 1000 + 14)] = 7;
  main.modules.get(1)!.sites[3 * (7 * 1000 + 14) + 1] = 14;
  return { main, w1, w2 };
}

test('reports a write-write race between two workers on the same element', () => {
  const { main, w1, w2 } = twoWorkers();
  segment(w1, { 0: 1, 1: 1 }, [[0, 0, 4, W, 20]]);
  segment(w2, { 0: 2, 2: 1 }, [[0, 0, 4, W, 20]]);
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  const r = races[0]!;
  assert.equal(r.kind, 'write-write');
  assert.equal(r.buffer, 'B');
  assert.equal(r.byteOffset, 0);
  assert.equal(r.byteLength, 4);
  assert.equal(r.count, 1);
  assert.deepEqual(
    r.accesses.map((a) => [a.threadId, a.op, a.line]),
    [
      [1, 'write', 20],
      [2, 'write', 20],
    ],
  );
  assert.deepEqual(r.accesses[0]!.threadCreatedAt, { file: '/app/main.js', line: 7, column: 14 });
  assert.deepEqual(r.accesses[1]!.threadCreatedAt, { file: '/app/main.js', line: 8, column: 3 });
  assert.equal(r.bufferInfo?.allocatedAt?.line, 3);
  assert.equal(r.bufferInfo?.byteLength, 64);
});

test('parent writes before spawning are ordered; writes after spawning race with the child', () => {
  const { main, w1, w2 } = twoWorkers();
  segment(main, { 0: 1 }, [[0, 0, 8, W, 5]]); // before new Worker: epoch 1, child starts with main@1
  segment(main, { 0: 3 }, [[0, 4, 4, W, 30]]); // after both spawns: epoch 3
  segment(w1, { 0: 1, 1: 1 }, [[0, 0, 8, R, 21]]);
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  assert.equal(races[0]!.kind, 'read-write');
  assert.deepEqual(
    races[0]!.accesses.map((a) => [a.threadId, a.op, a.line]),
    [
      [1, 'read', 21],
      [0, 'write', 30],
    ],
  );
  assert.equal(races[0]!.byteOffset, 4);
  assert.equal(races[0]!.byteLength, 4);
});

test('join (exit) orders the worker before the parent; a read before join races', () => {
  const { main, w1, w2 } = twoWorkers();
  segment(w1, { 0: 1, 1: 1 }, [[0, 0, 4, W, 20]]);
  segment(main, { 0: 2 }, [[0, 0, 4, R, 40]]); // read before 'exit': main has not seen w1
  segment(main, { 0: 3, 1: 1 }, [[0, 0, 4, R, 42]]); // after join: main knows w1@1
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  assert.deepEqual(
    races[0]!.accesses.map((a) => a.line),
    [20, 40],
  );
});

test('reads alone never race, and two atomics never race, but atomic vs plain does', () => {
  const { main, w1, w2 } = twoWorkers();
  segment(w1, { 0: 1, 1: 1 }, [
    [0, 0, 4, R, 20],
    [0, 8, 4, AW, 22],
    [0, 16, 4, AW, 24],
  ]);
  segment(w2, { 0: 2, 2: 1 }, [
    [0, 0, 4, R, 30],
    [0, 8, 4, AR, 32],
    [0, 16, 4, R, 34],
  ]);
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  assert.deepEqual(
    races[0]!.accesses.map((a) => [a.op, a.line]),
    [
      ['atomic-write', 24],
      ['read', 34],
    ],
  );
});

test('byte ranges: an Int32 write and a Float64 read overlap, adjacent ranges do not', () => {
  const { main, w1, w2 } = twoWorkers();
  segment(w1, { 0: 1, 1: 1 }, [[0, 12, 4, W, 20]]); // bytes 12..16
  segment(w2, { 0: 2, 2: 1 }, [
    [0, 8, 8, R, 30], // bytes 8..16 overlaps
    [0, 16, 8, W, 31], // bytes 16..24 adjacent only
  ]);
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  assert.equal(races[0]!.byteOffset, 12);
  assert.equal(races[0]!.byteLength, 4);
});

test('different buffers never race; different processes never race', () => {
  const main = thread(0);
  const w1 = thread(1);
  const other = thread(0, { pid: 200 });
  shareBuffer(main, 'B');
  shareBuffer(w1, 'C');
  shareBuffer(other, 'B');
  segment(main, { 0: 2 }, [[0, 0, 4, W, 5]]);
  segment(w1, { 1: 1 }, [[0, 0, 4, W, 6]]);
  segment(other, { 0: 1 }, [[0, 0, 4, W, 7]]);
  assert.deepEqual(analyseRaces(run(main, w1, other)), []);
});

test('a lock-protected counter in 2 × 1000 alternating segments has no race; an unprotected one has', () => {
  const { main, w1, w2 } = twoWorkers();
  // Hand-off chain: w1 seg k releases, w2 acquires it, and back.
  let c1 = 0;
  let c2 = 0;
  for (let k = 0; k < 1000; k++) {
    c1++;
    segment(w1, { 0: 1, 1: c1, 2: c2 }, [[0, 0, 4, W, 20]]);
    c2++;
    segment(w2, { 0: 2, 1: c1, 2: c2 }, [[0, 0, 4, W, 20]]);
  }
  assert.deepEqual(analyseRaces(run(main, w1, w2)), []);

  const u = twoWorkers();
  for (let k = 1; k <= 1000; k++) {
    segment(u.w1, { 0: 1, 1: k }, [[0, 0, 4, W, 20]]);
    segment(u.w2, { 0: 2, 2: k }, [[0, 0, 4, W, 20]]);
  }
  const races = analyseRaces(run(u.main, u.w1, u.w2));
  assert.equal(races.length, 1);
  assert.equal(races[0]!.count, 1000 * 1000);
});

test('partial ordering: only the runs outside the synchronised window are counted', () => {
  const { main, w1, w2 } = twoWorkers();
  // w1 writes in epochs 1..4; w2's only segment has seen w1 up to epoch 2 → epochs 3, 4 race.
  for (let e = 1; e <= 4; e++) segment(w1, { 0: 1, 1: e }, [[0, 0, 4, W, 20]]);
  segment(w2, { 0: 2, 1: 2, 2: 1 }, [[0, 0, 4, R, 30]]);
  const races = analyseRaces(run(main, w1, w2));
  assert.equal(races.length, 1);
  assert.equal(races[0]!.count, 2);
});

test('one report per site pair, folding many element pairs, sorted deterministically', () => {
  const { main, w1, w2 } = twoWorkers();
  const runsA: [number, number, number, number, number][] = [];
  const runsB: [number, number, number, number, number][] = [];
  for (let i = 0; i < 10; i++) {
    runsA.push([0, i * 4, 4, W, 50]);
    runsB.push([0, i * 4, 4, R, 60]);
    runsB.push([0, i * 4, 4, W, 61]);
  }
  segment(w1, { 0: 1, 1: 1 }, runsA);
  segment(w2, { 0: 2, 2: 1 }, runsB);
  const races = analyseRaces(run(main, w1, w2));
  assert.deepEqual(
    races.map((r) => [r.kind, r.accesses[0]!.line, r.accesses[1]!.line, r.count, r.byteOffset, r.byteLength]),
    [
      ['read-write', 50, 60, 10, 0, 40],
      ['write-write', 50, 61, 10, 0, 40],
    ],
  );
});

test('stays fast on a million coalesced runs', () => {
  const { main, w1, w2 } = twoWorkers();
  const N = 250_000;
  for (const [t, slot, line] of [
    [w1, 1, 20],
    [w2, 2, 30],
  ] as const) {
    segment(
      t,
      { 0: slot, [slot]: 1 },
      Array.from({ length: N }, (_, i): Run => [0, i * 8 + (slot - 1) * 4, 4, W, line]),
    );
  }
  const races = analyseRaces(run(main, w1, w2));
  assert.deepEqual(races, []);
});

test('past the dense size cap, clocks are read from the sparse vectors with the same answer', async () => {
  const { ProcessClocks } = await import('../../src/core/hbClocks');
  const { main, w1, w2 } = twoWorkers();
  segment(w1, { 0: 1, 1: 3, 2: 7 }, []);
  segment(w2, { 0: 2, 1: 2, 2: 1 }, []);
  for (const clocks of [new ProcessClocks([main, w1, w2]), new ProcessClocks([main, w1, w2], 0)]) {
    assert.equal(clocks.clock(clocks.segmentIndex(w1, 0), 2), 7);
    assert.equal(clocks.clock(clocks.segmentIndex(w1, 0), 5), 0);
    assert.equal(clocks.clock(clocks.segmentIndex(w2, 0), 1), 2);
  }
});

test('the result does not depend on the order threads were loaded in', () => {
  const build = () => {
    const { main, w1, w2 } = twoWorkers();
    const w3 = thread(3);
    shareBuffer(w3, 'B');
    segment(w1, { 0: 1, 1: 1 }, [
      [0, 0, 8, W, 20],
      [0, 16, 4, R, 21],
    ]);
    segment(w2, { 0: 2, 2: 1 }, [[0, 4, 8, W, 30]]);
    segment(w3, { 0: 3, 3: 1 }, [
      [0, 0, 4, R, 40],
      [0, 16, 4, W, 41],
    ]);
    return [main, w1, w2, w3];
  };
  const a = analyseRaces(run(...build()));
  const b = analyseRaces(run(...build().reverse()));
  assert.deepEqual(
    a.map((r) => r.accesses.map((x) => x.line)),
    [
      [20, 30],
      [20, 40],
      [21, 41],
    ],
  );
  assert.deepEqual(b, a);
});

test('a thread without a clock slot is left out instead of producing nonsense', () => {
  const { main, w1, w2 } = twoWorkers();
  w2.tidx = null;
  segment(w1, { 0: 1, 1: 1 }, [[0, 0, 4, W, 20]]);
  segment(w2, {}, [[0, 0, 4, W, 30]], -1);
  assert.deepEqual(analyseRaces(run(main, w1, w2)), []);
});

test('400k distinct access runs are analysed in a 64 MB heap (an object per run group needed ~3×)', () => {
  // A 100 MB buffer touched at random (17.5M distinct runs) ran the analysis out of its 4 GB heap.
  const child = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', join(__dirname, 'manyRuns.ts'), '200000'], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr.slice(0, 500));
  assert.deepEqual(JSON.parse(child.stdout), { accesses: 400_001, races: [['read-write', 0, 1]] });
});
