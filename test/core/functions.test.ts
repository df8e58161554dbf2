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

test("the top level of code compiled from a string (the agent's wrapper) is the profiler's frame; a user file's top level is the user's", () => {
  const code = '[function 1a2b3c4d]';
  const file = 'file:///w/app.js';
  const profile: CpuProfile = {
    nodes: [frame(1, '(root)', '', -1, [2, 3]), frame(2, '', code, 0, [4]), frame(3, '', file, 0), frame(4, 'task', code, 2)],
    startTime: 0,
    endTime: 3,
    samples: [2, 3, 4],
    timeDeltas: [1, 1, 1],
  };
  const ids = new FunctionIdentities();
  const nodeFn = identifyNodes(parseProfile(profile), new FunctionMapper({ modules: new Map() } as unknown as LoadedThread), ids);
  const rows = Array.from(nodeFn, (i) => (i < 0 ? null : `${ids.name[i]}@${ids.file[i]}`));
  assert.deepEqual(rows, [null, `${PROFILER_FRAME}@${code}`, '(anonymous)@/w/app.js', `task@${code}`]);
});

test("time blocked in the agent's stand-in for Atomics.wait is the caller's, as under plain node; other agent frames stay the profiler's", async () => {
  const { packageRoot } = await import('../../src/core/packageInfo');
  const agent = `file://${packageRoot()}/out/agent-main.js`;
  const url = 'file:///w/app.js';
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(root)', '', -1, [2, 5]),
      frame(2, 'lock', url, 3, [3]),
      frame(3, 'wait', agent, 900, [4]),
      frame(4, 'wait', agent, 300),
      frame(5, 'flush', agent, 50, [6]),
      frame(6, 'wait', agent, 300),
    ],
    startTime: 0,
    endTime: 4,
    samples: [3, 4, 4, 6],
    timeDeltas: [1, 1, 1, 1],
  };
  const ids = new FunctionIdentities();
  const p = parseProfile(profile);
  const nodeFn = identifyNodes(p, new FunctionMapper({ modules: new Map() } as unknown as LoadedThread), ids);
  // "frame:line under parent → identity" for every node but the root.
  const rows = [];
  for (let i = 0; i < p.parent.length; i++) {
    if (p.parent[i]! < 0) continue;
    rows.push(`${p.name[i]}:${p.line0[i]} < ${p.name[p.parent[i]!]} → ${ids.name[nodeFn[i]!]}`);
  }
  assert.deepEqual(rows.sort(), [
    `flush:50 < (root) → ${PROFILER_FRAME}`,
    'lock:3 < (root) → lock',
    `wait:300 < flush → ${PROFILER_FRAME}`,
    'wait:300 < wait → lock',
    'wait:900 < lock → lock',
  ]);
});

test('the ES module hooks note stays only for processes whose thread ids skip a number', async () => {
  const { processesWithTidGaps } = await import('../../src/core/analyse');
  const t = (pid: number, tid: number) => ({ pid, tid }) as unknown as LoadedThread;
  // pid 1: main and three workers 1–3 (hooks threads registered later took 4–6: nothing moved);
  // pid 2: an .mjs entry's hooks thread took id 1, its workers are 2 and 3.
  const run = { threads: [t(1, 0), t(1, 1), t(1, 2), t(1, 3), t(2, 0), t(2, 2), t(2, 3)] } as unknown as Parameters<typeof processesWithTidGaps>[0];
  assert.deepEqual([...processesWithTidGaps(run)], [2]);
});
