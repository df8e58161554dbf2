/**
 * Code compiled from strings at run time (the Function constructor, vm.runInThisContext): its
 * calls are counted and its shared accesses checked, and nothing else a program can see of
 * Function or of the functions it builds changes (identity, name, length, instanceof, toString,
 * SyntaxErrors and their stacks, this/arguments, strict mode).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callsOf, recordsOf, runAgent, runPlain, threadByTid } from './runAgent';

describe('agent: code compiled from strings', () => {
  for (const options of [{}, { races: true, locks: true }]) {
    it(`keeps identity and semantics exact and counts the calls (${options.races ? 'races on' : 'counts only'})`, async () => {
      const plain = runPlain('dynamic-code.js');
      assert.equal(plain.code, 0, plain.stderr);
      const run = await runAgent('dynamic-code.js', { options });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, plain.stderr, 'nothing more on stderr');
      assert.deepEqual(JSON.parse(run.stdout), JSON.parse(plain.stdout));
      const main = threadByTid(run, 0);
      const mods = recordsOf(main, 'module');
      const fnMods = mods.filter((m) => /^\[function [0-9a-f]{8}\]$/.test(m.file));
      assert.ok(fnMods.length >= 10, `Function code registered: ${mods.map((m) => m.file).join(', ')}`);
      // `counted` is one construction called five times: one module, five calls.
      const loop = fnMods.filter((m) => m.names.includes('anonymous') && recordsOf(main, 'counts').some((c) => c.fid === m.fid && c.ncalls[0] === 5));
      assert.equal(loop.length, 1, 'the five calls of one built function');
      assert.deepEqual(callsOf(main, 'sq-task', 'sq'), [3, 3], 'vm code named by its filename');
      assert.ok(mods.some((m) => /^\[vm [0-9a-f]{8}\]$/.test(m.file)), 'vm code without a filename is named by its hash');
      // V8 positions of the built function: `(function anonymous(`, as V8 compiles it, inside the wrapper.
      const one = fnMods[0]!;
      assert.deepEqual(one.funcs.slice(0, 2), [1, 2], 'the original position is (function anonymous at 1:2');
      const warns = recordsOf(main, 'warn').map((w) => w.msg);
      assert.ok(warns.some((m) => m.startsWith('Function code compiled from a string') && m.includes('`anonymous`')), warns.join('\n'));
      assert.ok(warns.some((m) => m.startsWith('vm code compiled from a string') && m.includes('not a single expression')), warns.join('\n'));
      assert.ok(warns.every((m) => m.includes('not counted') || !m.includes('compiled from a string')));
    });
  }

  it('instruments the first 256 different codes of a code generator and says the rest ran as they are', async () => {
    const run = await runAgent('many-functions.js', {});
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), String(300 * 3 + 2 * ((299 * 300) / 2)));
    const main = threadByTid(run, 0);
    const fnMods = recordsOf(main, 'module').filter((m) => /^\[function [0-9a-f]{8}\]$/.test(m.file));
    assert.equal(fnMods.length, 256);
    // Counts records are cumulative: the last one of each module.
    const last = new Map<number, number>();
    for (const c of recordsOf(main, 'counts')) last.set(c.fid, c.ncalls[0]!);
    assert.deepEqual(fnMods.map((m) => last.get(m.fid)), fnMods.map(() => 2), 'each instrumented one called twice');
    const warns = recordsOf(main, 'warn').filter((w) => w.msg.includes('more than 256 different codes'));
    assert.equal(warns.length, 1);
  });
});
