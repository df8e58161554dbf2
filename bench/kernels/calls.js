// Worst case for call counters: two workers each make hundreds of millions of calls to tiny helper
// functions that V8 inlines into ~0.4 ns each: a counter per call is a large share of that.
'use strict';
const { isMainThread, runWorkers, whenStarted } = require('./_start.js');
const N = Number(process.env.CALLS || 600e6);

function dot3(ax, ay, az, bx, by, bz) {
  return ax * bx + ay * by + az * bz;
}
function length3(x, y, z) {
  return Math.sqrt(dot3(x, y, z, x, y, z));
}
function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}
function step(i) {
  return length3(i & 7, i & 3, 1) + clamp(i % 10, 2, 8);
}
function run(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += step(i);
  return s;
}

if (isMainThread) runWorkers(__filename, 2, () => N / 2);
else whenStarted(run);
