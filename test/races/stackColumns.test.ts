/** Race reports name the columns of the program as written, not of the instrumented code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, agentMissing, profileFixture } from './fixtureRun';

test('race stacks and creation sites carry the original columns', { skip: agentMissing() ?? false, timeout: 90_000 }, async () => {
  const file = join(ROOT, 'test', 'fixtures', 'races', 'racy-stack-columns.js');
  const { report } = await profileFixture(file);
  assert.equal(report.races.length, 1);
  const [main, worker] = [...report.races[0]!.accesses].sort((a, b) => a.threadId - b.threadId);
  // `put(` on line 13 (main) and line 17 (worker) is at column 28 of the source.
  assert.ok(main!.stack.some((f) => f.endsWith('racy-stack-columns.js:13:28)')), main!.stack.join('\n'));
  assert.ok(worker!.stack.some((f) => f.endsWith('racy-stack-columns.js:17:28)')), worker!.stack.join('\n'));
  // `new Worker` on line 12 is at column 45.
  assert.deepEqual([worker!.threadCreatedAt?.line, worker!.threadCreatedAt?.column], [12, 45]);
});
