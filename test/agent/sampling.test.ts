/** CPU sampling per thread: backend choice (and why), profiles whose frames match the module records. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recordsOf, runAgent, threadByTid, type AgentRun } from './runAgent';

/** For every sampled function of positions.js: does V8's (line, column) equal the module record's generated position? */
function checkPositions(run: AgentRun): string[] {
  const main = threadByTid(run, 0);
  const mod = recordsOf(main, 'module').find((m) => m.file.endsWith('positions.js'))!;
  const generated = new Map<string, string>();
  mod.names.forEach((name, i) => generated.set(name, `${mod.funcs[4 * i + 2]}:${mod.funcs[4 * i + 3]}`));
  const profile = JSON.parse(readFileSync(join(run.dir, recordsOf(main, 'profile')[0]!.file), 'utf8'));
  const seen: string[] = [];
  for (const node of profile.nodes) {
    const cf = node.callFrame;
    // __ppH builds the module's tables after its last line: the profiler's, not the user's (a slow machine samples it).
    if (!cf.url.endsWith('positions.js') || !cf.functionName || cf.functionName === '__ppH' || seen.includes(cf.functionName)) continue;
    seen.push(cf.functionName);
    assert.equal(`${cf.lineNumber + 1}:${cf.columnNumber + 1}`, generated.get(cf.functionName), cf.functionName);
  }
  return seen;
}

describe('agent: CPU sampling', () => {
  it('uses v8-profiler-next when it loads, with frames in V8 .cpuprofile coordinates', async () => {
    const run = await runAgent('positions.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(threadByTid(run, 0).info.backend, 'v8-profiler-next');
    const seen = checkPositions(run);
    assert.ok(seen.length >= 8, seen.join());
  });

  it('uses the inspector when asked, and frames match the transformed positions', async () => {
    const run = await runAgent('positions.js', { options: { backend: 'inspector' } });
    assert.equal(run.code, 0, run.stderr);
    const main = threadByTid(run, 0);
    assert.equal(main.info.backend, 'inspector');
    assert.match(main.info.backendReason, /requested/);
    const seen = checkPositions(run);
    assert.ok(seen.length >= 8, seen.join());
  });

  it('writes the profile in consecutive chunks on the periodic flush', async () => {
    const run = await runAgent('busy-idle.js', { options: { flushIntervalMs: 100, profileChunkMs: 300 } });
    assert.equal(run.code, 0, run.stderr);
    const main = threadByTid(run, 0);
    const chunks = recordsOf(main, 'profile');
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.startUs >= chunks[i - 1]!.endUs - 1000, 'chunks follow each other');
    assert.deepEqual(
      chunks.map((c) => c.file),
      chunks.map((_, i) => `t-${main.info.pid}-0.${i}.cpuprofile`),
    );
    const samples = chunks.map((c) => JSON.parse(readFileSync(join(run.dir, c.file), 'utf8')).samples.length);
    assert.ok(samples.every((n) => n > 0), samples.join());
  });

  it('falls back to the inspector in every thread and says why when v8-profiler-next cannot load', async () => {
    const run = await runAgent('fib.js', { options: { v8ProfilerPath: '/nonexistent/v8-profiler-next' } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.threads.length, 2);
    for (const t of run.threads) {
      assert.equal(t.info.backend, 'inspector');
      // auto mode never tries v8-profiler-next in workers (it crashes when they are terminated)
      assert.match(
        t.info.backendReason,
        t.info.kind === 'main' ? /v8-profiler-next failed to load: Cannot find module/ : /workers use the inspector/,
      );
      const profile = JSON.parse(readFileSync(join(run.dir, recordsOf(t, 'profile')[0]!.file), 'utf8'));
      assert.ok(profile.samples.length > 0 && profile.samples.length === profile.timeDeltas.length);
      assert.ok(profile.startTime >= t.info.startUs - 1000, 'profile on the hrtime µs clock');
    }
  });

  it('keeps an explicit v8-profiler-next to main threads: a pool that terminates its workers does not crash', async () => {
    const run = await runAgent('pool-piscina.js', { options: { backend: 'v8-profiler-next' } });
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.code, 0, run.stderr);
    const main = threadByTid(run, 0);
    assert.equal(main.info.backend, 'v8-profiler-next');
    assert.match(main.info.backendReason, /^loaded .*; workers use the inspector \(v8-profiler-next crashes the process when a profiled worker is terminated\)$/);
    const workers = run.threads.filter((t) => t.info.kind === 'worker');
    assert.equal(workers.length, 2);
    for (const w of workers) {
      assert.equal(w.info.backend, 'inspector');
      assert.match(w.info.backendReason, /^v8-profiler-next was asked for, but it crashes the process/);
      assert.equal(recordsOf(w, 'exit')[0]?.reason, 'terminate');
    }
  });
});
