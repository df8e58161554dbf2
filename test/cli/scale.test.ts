// `parprof scale` argument handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScaleArgs } from '../../src/cli/scale';

test('scale --timeout past setTimeout\'s range is capped there (24.8 days), not a 1 ms limit', () => {
  const cap = (2 ** 31 - 1) / 1000;
  assert.equal(parseScaleArgs(['p.js', '--workers', '1,2', '--timeout', '1e9']).opts.timeoutSec, cap);
  assert.equal(parseScaleArgs(['p.js', '--workers', '1,2', '--timeout', '3000000']).opts.timeoutSec, cap);
  assert.equal(parseScaleArgs(['p.js', '--workers', '1,2', '--timeout', '30']).opts.timeoutSec, 30);
});

test('scale: an unknown option anywhere is a usage error (the program\'s options go after --); --name=value works', () => {
  assert.throws(() => parseScaleArgs(['p.js', '--workers', '1,2', '--repeats', '5']), /^UserError: unknown option --repeats; give the program's own options after "--"/);
  assert.throws(() => parseScaleArgs(['p.js', '--out', '']), /--out needs a value/);
  assert.throws(() => parseScaleArgs(['p.js', '--json=yes']), /--json takes no value/);
  const { opts } = parseScaleArgs(['p.js', '--workers=1,3', '--repeat=2', 'size', '--', '--size', '9']);
  assert.deepEqual([opts.workers, opts.repeat, opts.args], [[1, 3], 2, ['size', '--size', '9']]);
});
