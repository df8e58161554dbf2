import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyseRunDir } from '../../src/core/analyse';
import { assertValidReport, runs } from './helpers';

test('reports of hand-made runs validate against the JSON Schema', () => {
  for (const dir of ['basic', 'killed']) assertValidReport(analyseRunDir(join(runs, dir)));
});

test('the schema rejects a report that breaks the contract', () => {
  const r = analyseRunDir(join(runs, 'basic'));
  const bad = JSON.parse(JSON.stringify(r));
  bad.threads[0].kind = 'fiber';
  assert.throws(() => assertValidReport(bad), /does not match the schema/);
  const bad2 = JSON.parse(JSON.stringify(r));
  delete bad2.functions[0].ncalls;
  assert.throws(() => assertValidReport(bad2), /does not match the schema/);
});
