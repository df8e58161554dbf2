/** Programs that send functions as text (worker pools, eval workers) get their own code back. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callsOf, firstChild, recordsOf, runAgent, runPlain, threadByTid } from './runAgent';

describe('agent: functions as text', () => {
  it('toString gives the original code, so an eval worker built from it is counted once', async () => {
    const plain = runPlain('function-text.js');
    const run = await runAgent('function-text.js', { options: { races: true, locks: true } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, plain.stdout);
    const main = threadByTid(run, 0);
    assert.deepEqual(callsOf(main, 'function-text.js', 'add'), [0, 0], 'the rebuilt copy is not instrumented');
    const worker = firstChild(run, main);
    const evalFile = recordsOf(worker, 'module').find((m) => m.file.startsWith('[worker eval '))?.file ?? '[worker eval';
    assert.deepEqual(callsOf(worker, evalFile, 'workerMain'), [1, 1]);
    assert.deepEqual(callsOf(worker, evalFile, 'sq'), [1, 1]);
  });
});
