/**
 * Child of the races test (run under a small heap): two threads, each with `n` distinct word
 * runs of one buffer in one segment, their halves disjoint; prints the races found and the
 * access runs analysed.
 */
import { analyseRaces } from '../../src/core/races';
import type { SegmentRecord } from '../../src/protocol/events';
import { run, shareBuffer, site, thread } from './runBuilder';

const n = Number(process.argv[2]);
const threads = [thread(1), thread(2)];
threads.forEach((t, k) => {
  shareBuffer(t, 'B', 0, 8 * n * 2);
  const seg: SegmentRecord = { k: 'seg', self: t.tidx!, vc: [t.tidx!, 1], buf: [], off: [], len: [], kind: [], site: [] };
  // Every other word of the thread's half (no two coalesce), read then written by two lines.
  for (let i = 0; i < n; i++) {
    seg.buf.push(0);
    seg.off.push(8 * (k * n + i));
    seg.len.push(4);
    seg.kind.push(i % 2);
    seg.site.push(site(10 + (i % 2)));
  }
  t.segs.push(seg);
});
// One racing pair: both threads write word 0 of the buffer.
threads[1]!.segs.push({ k: 'seg', self: 2, vc: [2, 2], buf: [0], off: [0], len: [4], kind: [1], site: [site(12)] });
const races = analyseRaces(run(...threads));
console.log(JSON.stringify({ accesses: threads.reduce((s, t) => s + t.segs.accesses, 0), races: races.map((r) => [r.kind, r.byteOffset, r.count]) }));
