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
