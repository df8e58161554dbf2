import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyseRunDir } from '../../src/core/analyse';
import { buildChromeTrace, type TraceEvent } from '../../src/core/exports/chromeTrace';
import { buildCpuProfile } from '../../src/core/exports/cpuprofile';
import { buildPstatsReport } from '../../src/core/exports/pstats';
import { buildSpeedscope } from '../../src/core/exports/speedscope';
import { chromeTraceProblems, cpuProfileProblems, pstatsSectionProblems, speedscopeProblems } from './formatCheck';
import { runs } from './helpers';

const report = analyseRunDir(join(runs, 'basic'));

test('chrome trace: process and thread names, properly nested X slices, message flows', () => {
  const { traceEvents: ev } = buildChromeTrace(report);
  const meta = ev.filter((e) => e.ph === 'M');
  assert.deepEqual(
    meta.filter((e) => e.name === 'thread_name').map((e) => [e.pid, e.tid, (e.args as { name: string }).name]),
    [
      [100, 0, 'main [0]'],
      [100, 1, 'cruncher [1]'],
    ],
  );
  assert.equal(meta.filter((e) => e.name === 'process_name').length, 1);
  const byTid = new Map<number, TraceEvent[]>();
  for (const e of ev) if (e.ph === 'X') byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
  for (const [tid, xs] of byTid) {
    xs.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const open: TraceEvent[] = [];
    for (const x of xs) {
      assert.ok(x.dur! >= 0);
      while (open.length && open[open.length - 1]!.ts! + open[open.length - 1]!.dur! <= x.ts!) open.pop();
      const top = open[open.length - 1];
      if (top) assert.ok(x.ts! + x.dur! <= top.ts! + top.dur!, `slice ${x.name} on tid ${tid} overlaps ${top.name} without nesting`);
      open.push(x);
    }
  }
  // main → main → fib → fib: the outer main frame spans the first five samples (0.5..5.5 ms).
  const mainFrame = byTid.get(0)!.find((e) => e.name === 'main')!;
  assert.deepEqual([mainFrame.ts, mainFrame.dur], [500, 5000]);
  assert.ok(byTid.get(1)!.some((e) => e.cat === 'blocked' && e.ts === 14000 && e.dur === 2000));
  const s = ev.filter((e) => e.ph === 's');
  const f = ev.filter((e) => e.ph === 'f');
  assert.equal(s.length, report.messages.length);
  assert.deepEqual(
    s.map((e) => e.id),
    f.map((e) => e.id),
  );
  assert.deepEqual([s[0]!.tid, s[0]!.ts, f[0]!.tid, f[0]!.ts, f[0]!.bp], [0, 1500, 1, 2000, 'e']);
});

test('cpuprofile per thread: valid V8 shape whose samples add back up to the thread timeline', () => {
  const p = buildCpuProfile(report, 0);
  const ids = new Set(p.nodes.map((n) => n.id));
  for (const n of p.nodes) for (const c of n.children ?? []) assert.ok(ids.has(c));
  assert.equal(p.samples!.length, p.timeDeltas!.length);
  for (const s of p.samples!) assert.ok(ids.has(s));
  const fibNode = p.nodes.find((n) => n.callFrame.functionName === 'fib')!;
  assert.equal(fibNode.callFrame.url, 'file:///app/main.js');
  assert.equal(fibNode.callFrame.lineNumber, 4, '0-based line of the original source');
  // One sample per slice at its start (viewers weigh a sample by the time to the next one).
  assert.equal(p.startTime, 1_000_500);
  assert.equal(p.endTime - p.startTime, 20_000, 'first slice start to last slice end, µs');
  const sampleTimes = p.timeDeltas!.reduce((acc, d) => [...acc, (acc[acc.length - 1] ?? p.startTime) + d], [] as number[]);
  assert.deepEqual(sampleTimes.slice(0, 3), [1_000_500, 1_001_500, 1_002_500]);
});

test('speedscope: one evented profile per thread with balanced open/close events', () => {
  const s = buildSpeedscope(report);
  assert.equal(s.profiles.length, 2);
  for (const prof of s.profiles) {
    const open: number[] = [];
    let last = -Infinity;
    for (const e of prof.events) {
      assert.ok(e.at >= last, 'events in time order');
      last = e.at;
      if (e.type === 'O') open.push(e.frame);
      else assert.equal(open.pop(), e.frame, 'closes the innermost open frame');
      assert.ok(e.frame >= 0 && e.frame < s.shared.frames.length);
    }
    assert.equal(open.length, 0);
  }
  assert.ok(s.shared.frames.some((f) => f.name.startsWith('(blocked')));
});

test('every export of the fixture runs is valid for the tools that open it', () => {
  for (const name of ['basic', 'killed']) {
    const r = analyseRunDir(join(runs, name));
    assert.deepEqual(chromeTraceProblems(JSON.parse(JSON.stringify(buildChromeTrace(r)))), [], `${name}: trace.json`);
    r.threads.forEach((t, lane) => assert.deepEqual(cpuProfileProblems(JSON.parse(JSON.stringify(buildCpuProfile(r, lane)))), [], `${name}: ${t.name}.cpuprofile`));
    assert.deepEqual(speedscopeProblems(JSON.parse(JSON.stringify(buildSpeedscope(r)))), [], `${name}: speedscope`);
    const sections = buildPstatsReport(r).split(/^(?:Thread \d+ .*|All threads \(merged\))\n\n/m);
    assert.equal(sections.shift(), '');
    assert.equal(sections.length, 3);
    for (const s of sections) assert.deepEqual(pstatsSectionProblems(s), [], `${name}: pstats section\n${s}`);
  }
});

test('chrome trace: metadata events carry ts, and a flow end in a gap the samples saw idle gets a 1 µs slice to bind to', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  // Main is idle from 8.5 to 20 ms: a reply received there, and a send from there at 6 ms.
  r.messages.push({ fromThreadId: 1, toThreadId: 0, sentMs: 3, receivedMs: 10, bytes: null }, { fromThreadId: 0, toThreadId: 1, sentMs: 6, receivedMs: 9, bytes: null });
  const { traceEvents: ev } = buildChromeTrace(r);
  assert.ok(ev.filter((e) => e.ph === 'M').every((e) => e.ts === 0));
  assert.deepEqual(chromeTraceProblems(JSON.parse(JSON.stringify({ traceEvents: ev }))), []);
  const marks = ev.filter((e) => e.ph === 'X' && e.dur === 1).map((e) => [e.name, e.tid, e.ts]);
  assert.deepEqual(marks, [
    ['message received', 0, 10000],
    ['postMessage', 0, 6000],
  ]);
  // Ends that already sit in a slice get no mark: the first message (1.5 → 2 ms) binds as before.
  assert.equal(ev.filter((e) => e.ph === 'f').length, 3);
});
