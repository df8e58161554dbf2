/** The agent in every thread: thread files for main, CJS/ESM/eval/URL/nested workers and forked processes. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { callsOf, firstChild, recordsOf, runAgent, runPlain, threadByTid } from './runAgent';

describe('agent: threads', () => {
  it('profiles the main thread and a CommonJS worker with exact recursive call counts', async () => {
    const run = await runAgent('fib.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('fib.js').stdout, 'program output unchanged');
    assert.match(run.stdout, /instanceof true/);
    assert.equal(run.threads.length, 2);
    const main = threadByTid(run, 0);
    assert.equal(main.info.kind, 'main');
    assert.equal(main.info.parentTid, null);
    assert.deepEqual(callsOf(main, 'fib.js', 'fib'), [1973, 1]); // fib(15): 2*fib(16)-1 calls
    assert.deepEqual(callsOf(main, 'fib.js', 'square'), [1, 1]);
    const [spawn] = recordsOf(main, 'spawn');
    assert.ok(spawn);
    const worker = threadByTid(run, spawn.childTid);
    assert.equal(worker.info.kind, 'worker');
    assert.equal(worker.info.parentTid, 0);
    assert.equal(worker.info.entry, join(__dirname, '..', 'fixtures', 'agent', 'fib.js'));
    assert.deepEqual(callsOf(worker, 'fib.js', 'fib'), [465, 1]); // fib(12)
    const [join_] = recordsOf(main, 'join');
    assert.equal(join_?.childTid, spawn.childTid);
    assert.equal(join_?.exitCode, 0);
    for (const t of run.threads) {
      assert.equal(t.records[0]?.k, 'thread');
      assert.equal(t.records[t.records.length - 1]?.k, 'exit');
      const [profile] = recordsOf(t, 'profile');
      assert.ok(profile, `profile of ${t.file}`);
      assert.ok(existsSync(join(run.dir, profile.file)));
      // One clock: the profile lies inside the thread's lifetime (µs, hrtime).
      const exit = recordsOf(t, 'exit')[0]!;
      assert.ok(profile.startUs >= t.info.startUs - 1000 && profile.endUs <= exit.us + 1000, `${profile.startUs} in [${t.info.startUs}, ${exit.us}]`);
    }
  });

  it('counts every kind of function exactly: constructors, accessors, methods, generators, async, arrows', async () => {
    const run = await runAgent('shapes.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('shapes.js').stdout);
    const main = threadByTid(run, 0);
    const expected: Record<string, [number, number]> = {
      Shape: [5, 5],
      'get area': [4, 4],
      'set area': [1, 1],
      scale: [4, 4],
      unit: [1, 1],
      range: [1, 1],
      later: [1, 1],
      method: [2, 2],
      arrow: [1, 1],
      fact: [5, 1],
      outer: [1, 1],
      inner: [2, 2],
    };
    for (const [name, calls] of Object.entries(expected)) assert.deepEqual(callsOf(main, 'shapes.js', name), calls, name);
  });

  it('profiles ES module workers started from a URL, with top-level await', async () => {
    const run = await runAgent('esm-main.mjs');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('esm-main.mjs').stdout);
    const main = threadByTid(run, 0);
    assert.deepEqual(callsOf(main, 'esm-lib.mjs', 'fib'), [177, 1]); // fib(10)
    const spawn = recordsOf(main, 'spawn')[0]!;
    assert.ok(spawn.entry?.endsWith('esm-worker.mjs'));
    assert.deepEqual(callsOf(threadByTid(run, spawn.childTid), 'esm-lib.mjs', 'fib'), [287, 1]); // fib(11)
  });

  it("says in the report that Node's ES module hooks thread took thread id 1 (Node 20 has no in-thread hooks)", async () => {
    const run = await runAgent('esm-main.mjs');
    assert.equal(run.code, 0, run.stderr);
    const main = threadByTid(run, 0);
    assert.equal(recordsOf(main, 'spawn')[0]?.childTid, 2, 'plain node numbers this worker 1');
    const notes = run.threads.flatMap((t) => recordsOf(t, 'warn')).filter((w) => /ES module hooks on a thread of their own/.test(w.msg));
    assert.equal(notes.length, 1, 'once per process');
    assert.match(notes[0]!.msg, /first worker is thread 2, not 1/);
    assert.equal(recordsOf(threadByTid(run, 2), 'warn').length, 0);
  });

  it('keeps ES module import cycles working when a function is called before its module ran', async () => {
    const run = await runAgent('cycle-a.mjs');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'cycle 42\n');
    assert.deepEqual(callsOf(threadByTid(run, 0), 'cycle-a.mjs', 'early'), [1, 1]);
  });

  it('registers the ES module hooks lazily, when CommonJS or eval code uses import()', async () => {
    const run = await runAgent('dyn-import.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'main fib 13\neval worker fib 8\n');
    const main = threadByTid(run, 0);
    assert.deepEqual(callsOf(main, 'esm-lib.mjs', 'fib'), [41, 1]);
    const worker = firstChild(run, main);
    assert.deepEqual(callsOf(worker, 'esm-lib.mjs', 'fib'), [25, 1]);
  });

  it('starts no ES module hooks thread for CommonJS that never imports ESM', async () => {
    const run = await runAgent('plain-cjs.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('plain-cjs.js').stdout);
    assert.match(run.stdout, /worker thread 1 1/);
    assert.equal(recordsOf(threadByTid(run, 0), 'spawn')[0]?.childTid, 1);
  });

  it('covers eval workers, nested workers and URL workers', async () => {
    const run = await runAgent('threads.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('threads.js').stdout);
    assert.equal(run.threads.length, 4, run.threads.map((t) => t.file).join());
    const main = threadByTid(run, 0);
    const spawns = recordsOf(main, 'spawn');
    assert.equal(spawns.length, 2);
    const evalSpawn = spawns.find((s) => s.eval)!;
    assert.equal(evalSpawn.entry, '[eval]');
    assert.ok(evalSpawn.stack[0]?.includes('threads.js'), String(evalSpawn.stack[0]));
    const evalThread = threadByTid(run, evalSpawn.childTid);
    assert.equal(evalThread.info.entry, '[eval]');
    const evalModule = recordsOf(evalThread, 'module').find((m) => m.file.startsWith('[worker eval '));
    assert.match(evalModule?.file ?? '', /^\[worker eval [0-9a-f]{8}\]$/, 'named by its code');
    assert.equal(evalModule?.url, '[worker eval]');
    assert.deepEqual(callsOf(evalThread, evalModule!.file, 'tri'), [11, 1]);
    assert.deepEqual(callsOf(evalThread, evalModule!.file, 'twice'), [1, 1]);
    const nested = threadByTid(run, spawns.find((s) => !s.eval)!.childTid);
    assert.ok(nested.info.entry?.endsWith('nested-worker.js'));
    const grandchildSpawn = recordsOf(nested, 'spawn')[0]!;
    const grandchild = threadByTid(run, grandchildSpawn.childTid);
    assert.equal(grandchild.info.parentTid, nested.info.tid);
    assert.deepEqual(callsOf(grandchild, 'nested-worker.js', 'leaf'), [1, 1]);
    assert.equal(recordsOf(nested, 'join')[0]?.childTid, grandchild.info.tid);
  });

  it('profiles a TypeScript entry with lines of the .ts source', async () => {
    const run = await runAgent('ts-entry.ts');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'ts fib 34 5\nts worker 21\n');
    const main = threadByTid(run, 0);
    const mod = recordsOf(main, 'module').find((m) => m.file.endsWith('ts-entry.ts'))!;
    assert.equal(mod.funcs[mod.names.indexOf('fib') * 4], 11);
    assert.equal(mod.funcs[mod.names.indexOf('norm') * 4], 15);
    assert.deepEqual(callsOf(main, 'ts-entry.ts', 'fib'), [109, 1]); // fib(9)
    const worker = firstChild(run, main);
    assert.deepEqual(callsOf(worker, 'ts-entry.ts', 'fib'), [67, 1]); // fib(8)
    assert.ok(!recordsOf(main, 'module').some((m) => m.file.includes('agent-ts')), 'the agent never instruments itself');
  });

  it('runs an .mts entry as an ES module (top-level await) importing a .ts module', async () => {
    const run = await runAgent('ts-esm.mts');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'mts 55\n');
    const main = threadByTid(run, 0);
    assert.deepEqual(callsOf(main, 'ts-lib.ts', 'fibTs'), [177, 1]);
    const mod = recordsOf(main, 'module').find((m) => m.file.endsWith('ts-lib.ts'))!;
    assert.equal(mod.funcs[0], 1, 'line of fibTs in the .ts source');
  });

  it('keeps the agent in workers given their own execArgv and env', async () => {
    const run = await runAgent('worker-options.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('worker-options.js').stdout);
    assert.equal(run.threads.length, 2);
    const worker = run.threads.find((t) => t.info.kind === 'worker')!;
    assert.deepEqual(callsOf(worker, 'worker-options.js', 'hello'), [1, 1]);
  });

  it('profiles a forked child process as its own process', async () => {
    const run = await runAgent('fork-parent.js');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, runPlain('fork-parent.js').stdout);
    const pids = [...new Set(run.threads.map((t) => t.info.pid))];
    assert.equal(pids.length, 2);
    const parent = run.threads.find((t) => t.info.ppid === null)!;
    const child = run.threads.find((t) => t.info.ppid !== null)!;
    assert.equal(child.info.ppid, parent.info.pid);
    assert.equal(recordsOf(parent, 'fork')[0]?.childPid, child.info.pid);
    assert.deepEqual(callsOf(child, 'fork-child.js', 'triple'), [1, 1]);
    assert.deepEqual(callsOf(parent, 'fork-parent.js', 'double'), [1, 1]);
  });

  for (const [fixture, sends] of [
    ['ipc-parent.js', 2],
    ['ipc-cluster.js', 1],
  ] as const) {
    it(`records ${fixture === 'ipc-parent.js' ? 'child_process.fork' : 'cluster'} IPC messages both ways, paired by id, and leaves Node's own alone`, async () => {
      const run = await runAgent(fixture);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, runPlain(fixture).stdout);
      const parent = run.threads.find((t) => t.info.ppid === null)!;
      const child = run.threads.find((t) => t.info.ppid !== null)!;
      assert.ok(child, 'the child is profiled');
      // "pid.senderTid.seq": a receipt from the other process names the sender's pid.
      const ids = (t: typeof parent, dir: 's' | 'r') =>
        recordsOf(t, 'msg')
          .filter((m) => m.dir === dir)
          .flatMap((m) => m.seq!.map((seq, i) => (dir === 's' ? `${t.info.pid}.${t.info.tid}.${seq}` : `${m.pid![i]}.${m.peer[i]}.${seq}`)));
      assert.equal(ids(parent, 's').length, sends);
      assert.deepEqual(ids(child, 'r'), ids(parent, 's'));
      assert.equal(ids(child, 's').length, 1);
      assert.deepEqual(ids(parent, 'r'), ids(child, 's'));
      for (const m of [...recordsOf(parent, 'msg'), ...recordsOf(child, 'msg')]) assert.ok(m.channel.every((c) => c === 4), 'IPC channel');
    });
  }

  it('records garbage collections on the shared clock', async () => {
    const run = await runAgent('gc.js');
    assert.equal(run.code, 0, run.stderr);
    const main = threadByTid(run, 0);
    const gcs = recordsOf(main, 'gc');
    const starts = gcs.flatMap((g) => g.start);
    assert.ok(starts.length > 0, 'some gc');
    const exit = recordsOf(main, 'exit')[0]!;
    for (const s of starts) assert.ok(s >= main.info.startUs - 5000 && s <= exit.us, `${s} in [${main.info.startUs}, ${exit.us}]`);
    assert.equal(gcs[0]!.start.length, gcs[0]!.dur.length);
  });
});
