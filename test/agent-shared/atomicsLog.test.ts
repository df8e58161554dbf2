/**
 * The compressed Atomics log: what the agent writes (logged ops and Repeat runs) rebuilds the
 * thread's exact operation sequence, and the core's stand-ins keep every count, the first and
 * the last operation of every run, and the order in which locks are held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AtomOp } from '../../src/protocol/events';
import { AtomicsLog, type AtomColumns } from '../../src/agent/shared/atomicsLog';
import { threadAtomicOps } from '../../src/core/atomOps';
import { emptyThread } from '../../src/core/load';

type Op = [op: number, buf: number, off: number, val: number, res: number, site: number];

/** Feeds ops through a log (time = index) and returns the written columns. */
function write(ops: Op[], flushAt?: number): AtomColumns[] {
  const recs: AtomColumns[] = [];
  let now = 0;
  const log = new AtomicsLog(
    () => now,
    (c) => recs.push(c),
    null,
    null,
    flushAt,
  );
  ops.forEach((o, i) => {
    now = i * 10;
    if (o[0] === AtomOp.Wait) log.timed(o[0], o[1], o[2], o[3], o[4], 5, o[5], now);
    else log.op(...o);
  });
  log.flush();
  return recs;
}

/** The sequence the columns stand for: each Repeat entry copies the op p before, res times. */
function replay(recs: AtomColumns[]): Op[] {
  const out: Op[] = [];
  for (const r of recs) {
    for (let i = 0; i < r.op.length; i++) {
      if (r.op[i] === AtomOp.Repeat) {
        for (let k = 0; k < r.res[i]!; k++) out.push(out[out.length - r.val[i]!]!);
      } else out.push([r.op[i]!, r.buf[i]!, r.off[i]!, r.val[i]!, r.res[i]!, r.site[i]!]);
    }
  }
  return out;
}

/** A seeded pseudo-random generator (tests stay deterministic). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const lockCycle = (off: number): Op[] => [
  [AtomOp.CasOk, 0, off, 1, 0, 10],
  [AtomOp.Store, 0, off, 0, 0, 11],
  [AtomOp.Notify, 0, off, 1, 0, 12],
];

/** Programs of repeating blocks with noise: lock cycles, nested locks, counters, spins, waits. */
function program(seed: number): Op[] {
  const r = rng(seed);
  const ops: Op[] = [];
  let counter = 0;
  for (let block = 0; block < 40; block++) {
    const kind = Math.floor(r() * 5);
    const reps = 1 + Math.floor(r() * 700);
    for (let k = 0; k < reps; k++) {
      if (kind === 0) ops.push(...lockCycle(0));
      else if (kind === 1) ops.push([AtomOp.CasOk, 0, 0, 1, 0, 10], [AtomOp.CasOk, 0, 8, 1, 0, 10], [AtomOp.Store, 0, 8, 0, 0, 11], [AtomOp.Store, 0, 0, 0, 0, 11]);
      else if (kind === 2) ops.push([AtomOp.Add, 0, 16, 1, counter++, 20]);
      else if (kind === 3) ops.push([AtomOp.CasFail, 0, 4, 1, 1, 30]);
      else ops.push([AtomOp.Wait, 0, 4, 1, 0, 31], ...lockCycle(4));
      if (r() < 0.01) ops.push([AtomOp.Load, 0, 24, 0, Math.floor(r() * 3), 40]);
    }
  }
  return ops;
}

test('the written log rebuilds the exact sequence of operations', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const ops = program(seed);
    const recs = write(ops);
    assert.deepEqual(replay(recs), ops, `seed ${seed}`);
  }
});

test('a run that closes just as the buffer fills is written once (no flush → close → flush recursion)', () => {
  // A closing Repeat entry that filled the buffer used to flush, and the flush closed the same
  // run again: unbounded recursion, which crashed a worker after ~5M uncontended lock ops.
  const ops: Op[] = [];
  for (let i = 0; i < 3000; i++) ops.push(...lockCycle(0));
  for (let flushAt = 1; flushAt <= 40; flushAt++) {
    const recs = write(ops, flushAt);
    assert.deepEqual(replay(recs), ops, `flush at ${flushAt}`);
    assert.ok(recs.every((r) => r.op.length <= flushAt), `flush at ${flushAt}: a write longer than the buffer`);
  }
});

test('an uncontended lock loop is written as a few entries, not one per operation', () => {
  const ops: Op[] = [];
  for (let i = 0; i < 100000; i++) ops.push(...lockCycle(0));
  const recs = write(ops);
  const entries = recs.reduce((n, r) => n + r.op.length, 0);
  // One timed cycle every 512 covered operations, and one Repeat entry per run.
  assert.ok(entries < ops.length / 100, `${entries} entries for ${ops.length} operations`);
  assert.deepEqual(replay(recs), ops);
});

test('counters whose result changes every time are logged one by one', () => {
  const ops: Op[] = [];
  for (let i = 0; i < 1000; i++) ops.push([AtomOp.Add, 0, 0, 1, i, 5]);
  const recs = write(ops);
  assert.equal(recs.reduce((n, r) => n + r.op.length, 0), 1000);
});

function coreOps(recs: AtomColumns[]) {
  const t = emptyThread(1, 1, { k: 'thread', pid: 1, ppid: null, tid: 1, parentTid: 0, kind: 'worker', entry: 'x', name: null, startUs: 0 } as any);
  for (const r of recs) t.atoms.push({ k: 'atom', ...r });
  return threadAtomicOps(t, 0);
}

test("the core's stand-ins weigh exactly as many operations of each kind, in the thread's order", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const ops = program(seed);
    const got = coreOps(write(ops));
    const key = (o: { op: number; off: number; val: number; res: number; site: number }) => `${o.op}|${o.off}|${o.val}|${o.res}|${o.site}`;
    const want = new Map<string, number>();
    for (const o of ops) want.set(key({ op: o[0], off: o[2], val: o[3], res: o[4], site: o[5] }), (want.get(key({ op: o[0], off: o[2], val: o[3], res: o[4], site: o[5] })) ?? 0) + 1);
    const have = new Map<string, number>();
    for (const o of got) have.set(key(o), (have.get(key(o)) ?? 0) + o.w);
    assert.deepEqual(have, want, `seed ${seed}`);
    assert.deepEqual(key(got[got.length - 1]!), key({ op: ops.at(-1)![0], off: ops.at(-1)![2], val: ops.at(-1)![3], res: ops.at(-1)![4], site: ops.at(-1)![5] }));
    for (let i = 1; i < got.length; i++) assert.ok(got[i]!.us >= got[i - 1]!.us && got[i]!.seq > got[i - 1]!.seq, `seed ${seed}: time goes back at ${i}`);
  }
});

test('nested locks stay nested the same way through a compressed run (no false lock order)', () => {
  const ops: Op[] = [];
  for (let i = 0; i < 1001; i++) ops.push([AtomOp.CasOk, 0, 0, 1, 0, 10], [AtomOp.Store, 0, 0, 0, 0, 11], [AtomOp.CasOk, 0, 8, 1, 0, 10], [AtomOp.Store, 0, 8, 0, 0, 11]);
  ops.push([AtomOp.CasOk, 0, 0, 1, 0, 10]); // ends holding lock 0 only
  const got = coreOps(write(ops));
  const held: number[] = [];
  for (const o of got) {
    if (o.op === AtomOp.CasOk) {
      assert.equal(held.length, 0, `lock ${o.off} taken while holding ${held.join()} (seq ${o.seq})`);
      held.push(o.off);
    } else held.splice(held.indexOf(o.off), 1);
  }
  assert.deepEqual(held, [0]);
});
