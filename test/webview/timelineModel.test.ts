/**
 * The timeline model in plain Node: packing round-trips exactly (to the microsecond), the
 * LOD coverage matches the raw slices, and memory stays under the 24 bytes-per-slice budget.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packTimeline } from '../../src/core/reportHtml';
import { STATES, laneCoverage, labelOf, modelBytes, modelFromColumns, modelFromOverview, modelFromPacked, sliceAt } from '../../webview/timelineModel';
import { makeReport } from './makeReport';

function unpack(report: ReturnType<typeof makeReport>) {
  const p = packTimeline(report.timeline, report.threads.length);
  return { p, model: modelFromPacked(p, new Uint8Array(Buffer.from(p.data, 'base64'))) };
}

test('packed timeline decodes to the same slices as the columns, to the microsecond', () => {
  const report = makeReport({ threads: 5, events: 20_000, seed: 7 });
  const direct = modelFromColumns(report.timeline, report.threads.length);
  {
    const { p, model } = unpack(report);
    assert.ok(p.byteLength < 20_000 * 6, `${p.byteLength / 20_000} bytes per slice`);
    assert.equal(model.start.length, 20_000);
    assert.deepEqual([...model.laneOffset], [...direct.laneOffset]);
    for (let i = 0; i < model.start.length; i += 97) {
      assert.ok(Math.abs(model.start[i]! - direct.start[i]!) <= 0.0011, `start ${i}`);
      assert.ok(Math.abs(model.start[i]! + model.dur[i]! - (direct.start[i]! + direct.dur[i]!)) <= 0.0011, `end ${i}`);
      assert.equal(model.state[i], direct.state[i]);
      assert.equal(model.stack[i], direct.stack[i]);
      assert.equal(labelOf(model, i), labelOf(direct, i));
    }
    // The LOD filled while decoding matches the one built from the columns.
    const width = 300;
    const a = new Float32Array(width * STATES);
    const b = new Float32Array(width * STATES);
    for (let lane = 0; lane < 5; lane++) {
      assert.equal(model.lod[lane]!.length, direct.lod[lane]!.length);
      const pxMs = direct.spanMs / width;
      laneCoverage(model, lane, 0, pxMs, width, a);
      laneCoverage(direct, lane, 0, pxMs, width, b);
      for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k]! - b[k]!) / pxMs < 0.05, `lane ${lane} cell ${k}`);
    }
  }
});

test('slices given out of order are sorted into their lanes', () => {
  const report = makeReport({ threads: 3, events: 300 });
  const tl = report.timeline;
  const idx = [...tl.start.keys()].reverse();
  const rev = { ...tl, thread: idx.map((i) => tl.thread[i]!), start: idx.map((i) => tl.start[i]!), end: idx.map((i) => tl.end[i]!), state: idx.map((i) => tl.state[i]!), stack: idx.map((i) => tl.stack[i]!), label: idx.map((i) => tl.label[i]!) };
  const m = modelFromColumns(rev, 3);
  for (let l = 0; l < 3; l++) for (let j = m.laneOffset[l]! + 1; j < m.laneOffset[l + 1]!; j++) assert.ok(m.start[j - 1]! <= m.start[j]!);
  const t = (tl.start[5]! + tl.end[5]!) / 2;
  assert.equal(m.start[sliceAt(m, tl.thread[5]!, t)], tl.start[5]);
});

test('LOD coverage agrees with raw slices when zoomed out', () => {
  const report = makeReport({ threads: 2, events: 400_000, seed: 3 });
  const m = modelFromColumns(report.timeline, 2);
  assert.ok(m.lod[1]!.length >= 3, 'lane has LOD levels');
  const width = 500;
  const pxMs = m.spanMs / width;
  const lod = new Float32Array(width * STATES);
  const visited = laneCoverage(m, 1, 0, pxMs, width, lod);
  assert.ok(visited <= 4 * width, `LOD visits buckets, not slices (${visited})`);
  // Exact per-pixel coverage from the raw slices.
  const exact = new Float64Array(width * STATES);
  for (let j = m.laneOffset[1]!; j < m.laneOffset[2]!; j++) {
    const s = m.start[j]!;
    const e = s + m.dur[j]!;
    for (let px = Math.floor(s / pxMs); px < width && px * pxMs < e; px++) exact[px * STATES + m.state[j]!]! += Math.min(e, (px + 1) * pxMs) - Math.max(s, px * pxMs);
  }
  let err = 0;
  for (let k = 0; k < lod.length; k++) err = Math.max(err, Math.abs(lod[k]! - exact[k]!) / pxMs);
  // Buckets straddling a pixel edge are spread evenly, so a pixel may be off by a few percent.
  assert.ok(err < 0.05, `max coverage error ${err}`);
});

test('the model holds at most 24 bytes per slice including its LOD cache', () => {
  const report = makeReport({ threads: 16, events: 1_000_000, typed: true });
  const { model } = unpack(report);
  const perSlice = modelBytes(model) / model.start.length;
  assert.ok(perSlice <= 24, `${perSlice.toFixed(1)} bytes per slice`);
});

test('the overview drawn before the slices load matches the full timeline', () => {
  const report = makeReport({ threads: 4, events: 200_000, seed: 11 });
  const { p, model } = unpack(report);
  const overview = modelFromOverview(p)!;
  assert.ok(overview.partial);
  assert.equal(overview.lod.length, 4);
  const width = 800;
  const a = new Float32Array(width * STATES);
  const b = new Float32Array(width * STATES);
  for (let lane = 0; lane < 4; lane++) {
    const pxMs = model.spanMs / width;
    laneCoverage(overview, lane, 0, pxMs, width, a);
    laneCoverage(model, lane, 0, pxMs, width, b);
    let err = 0;
    for (let k = 0; k < a.length; k++) err = Math.max(err, Math.abs(a[k]! - b[k]!) / pxMs);
    assert.ok(err < 0.08, `lane ${lane}: max coverage difference ${err}`);
    // Zoomed far in, the overview still answers (coarsely) instead of drawing nothing.
    laneCoverage(overview, lane, model.spanMs / 2, pxMs / 100, width, a);
    assert.ok(a.some((v) => v > 0));
  }
});
