/** Function identities of profile nodes: user functions, Node internals, and the profiler's own frames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionIdentities, identifyNodes, PROFILER_FRAME } from '../../src/core/functions';
import { parseProfile, type CpuProfile } from '../../src/core/profile';
import { FunctionMapper } from '../../src/core/sourcePositions';
import type { LoadedThread } from '../../src/core/runData';

const frame = (id: number, functionName: string, url: string, lineNumber: number, children: number[] = []) => ({
  id,
  callFrame: { functionName, scriptId: 1, url, lineNumber, columnNumber: 0 },
  hitCount: 1,
  children,
});

test("the transform's module-table builder (__ppH) is the profiler's frame, not a user function", () => {
  const url = 'file:///w/app.js';
  const profile: CpuProfile = {
    nodes: [frame(1, '(root)', '', -1, [2, 3]), frame(2, '__ppH', url, 40), frame(3, 'work', url, 3)],
    startTime: 0,
    endTime: 3,
    samples: [2, 3, 3],
    timeDeltas: [1, 1, 1],
  };
  const ids = new FunctionIdentities();
  const nodeFn = identifyNodes(parseProfile(profile), new FunctionMapper({ modules: new Map() } as unknown as LoadedThread), ids);
  const names = Array.from(nodeFn, (i) => (i < 0 ? null : ids.name[i]));
  assert.deepEqual(names.slice().sort(), [PROFILER_FRAME, 'work', null].sort());
});
