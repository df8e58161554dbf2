/**
 * Every Atomics operation is logged with its value and result at its site, is an atomic access
 * for race detection, and returns what it returns without the agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessKind, AtomOp, WaitResult } from '../../src/protocol/events';
import { accesses, lineOf, runAgent, runPlain, sitesAt, type AgentRun } from './runAgent';

const FIX = 'atomics.js';
let run: AgentRun;

function log() {
  const main = run.thread(0);
  const rows: { op: number; off: number; val: number; res: number; dur: number; site: number; n: number }[] = [];
  for (const a of main.of('atom')) {
    for (let i = 0; i < a.op.length; i++) {
      rows.push({ op: a.op[i]!, off: a.off[i]!, val: a.val[i]!, res: a.res[i]!, dur: a.dur[i]!, site: a.site[i]!, n: a.n?.[i] ?? 1 });
    }
  }
  return rows;
}

function opAt(tag: string) {
  const sites = sitesAt(run.thread(0), FIX, lineOf(FIX, tag));
  const rows = log().filter((r) => sites.includes(r.site));
  assert.equal(rows.length, 1, `${tag}: ${JSON.stringify(rows)}`);
  return rows[0]!;
}

test('atomics fixture runs under the agent with unchanged results', () => {
  const plain = runPlain(FIX);
  run = runAgent(FIX, { deadlockTimeoutMs: 5000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, plain.stdout);
});

test('each operation is logged with its value and result', () => {
  assert.deepEqual(pick(opAt('store')), { op: AtomOp.Store, off: 4, val: 5, res: 5 });
  assert.deepEqual(pick(opAt('load')), { op: AtomOp.Load, off: 4, val: 0, res: 5 });
  assert.deepEqual(pick(opAt('add')), { op: AtomOp.Add, off: 4, val: 3, res: 5 });
  assert.deepEqual(pick(opAt('sub')), { op: AtomOp.Sub, off: 4, val: 2, res: 8 });
  assert.deepEqual(pick(opAt('and')), { op: AtomOp.And, off: 4, val: 4, res: 6 });
  assert.deepEqual(pick(opAt('or')), { op: AtomOp.Or, off: 4, val: 1, res: 4 });
  assert.deepEqual(pick(opAt('xor')), { op: AtomOp.Xor, off: 4, val: 7, res: 5 });
  assert.deepEqual(pick(opAt('exchange')), { op: AtomOp.Exchange, off: 8, val: 9, res: 0 });
  assert.deepEqual(pick(opAt('casok')), { op: AtomOp.CasOk, off: 8, val: 1, res: 9 });
  assert.deepEqual(pick(opAt('casfail')), { op: AtomOp.CasFail, off: 8, val: 2, res: 1 });
  assert.deepEqual(pick(opAt('notify')), { op: AtomOp.Notify, off: 12, val: 1, res: 0 });
});

test('waits record their result and how long they blocked', () => {
  const ne = opAt('waitne');
  assert.equal(ne.op, AtomOp.Wait);
  assert.equal(ne.res, WaitResult.NotEqual);
  const to = opAt('waitto');
  assert.equal(to.res, WaitResult.TimedOut);
  assert.equal(to.val, 0);
  assert.ok(to.dur >= 25_000, `waited ${to.dur} µs for a 30 ms timeout`);
});

test('operations reached through a destructured Atomics method are still logged', () => {
  const line = lineOf(FIX, 'destructured');
  assert.ok(sitesAt(run.thread(0), FIX, line).length > 0);
  assert.ok(log().some((r) => r.op === AtomOp.Load && r.off === 8 && r.res === 1 && sitesAt(run.thread(0), FIX, line).includes(r.site)));
});

test('Atomics operations are atomic accesses for race detection', () => {
  const main = run.thread(0);
  const acc = accesses(main);
  const kindsAt = (tag: string) => {
    const sites = sitesAt(main, FIX, lineOf(FIX, tag));
    return acc.filter((a) => sites.includes(a.site)).map((a) => a.kind);
  };
  assert.deepEqual(kindsAt('store'), [AccessKind.AtomicWrite]);
  assert.deepEqual(kindsAt('load'), [AccessKind.AtomicRead]);
  assert.deepEqual(kindsAt('add'), [AccessKind.AtomicWrite]);
  assert.deepEqual(kindsAt('casfail'), [AccessKind.AtomicRead]);
});

function pick(r: { op: number; off: number; val: number; res: number }) {
  return { op: r.op, off: r.off, val: r.val, res: r.res };
}
