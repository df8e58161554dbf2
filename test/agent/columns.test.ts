/** Stack frames of instrumented code map back to the user's columns (lines never move). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { originalColumn, originalFrame, registerColumns } from '../../src/agent/transform/columns';
import { transformSource } from '../../src/agent/transform/index';
import { testOptions } from './runAgent';

const shared = testOptions('/nonexistent', { races: true, locks: true });

/** Frames (innermost first) of every error the program collects in `errors`, run as `file`. */
function framesOf(code: string, file: string, rt?: object): string[][] {
  const errors: Error[] = [];
  const ctx = vm.createContext({
    errors,
    Int32Array,
    __pp: { m: () => Object.assign(Object.create(rt ?? {}), { c: new Uint32Array(16), s: new Uint32Array(16) }), cols: registerColumns },
  });
  vm.runInContext(code, ctx, { filename: file });
  return errors.map((e) =>
    String(e.stack)
      .split('\n')
      .slice(1)
      .map((l) => l.trim().replace(/^at /, ''))
      .filter((l) => l.includes(file)),
  );
}

const passThrough = { r: (_a: unknown, i: unknown) => i, w: (_a: unknown, i: unknown) => i, rw: (_a: unknown, i: unknown) => i, wk: (_a: unknown, i: unknown) => i, wv: (_q: unknown, v: unknown) => v, sab: (b: unknown) => b, it: (x: unknown) => x, io: (x: unknown) => x, v: (o: unknown) => o };

describe('agent: original columns of captured frames', () => {
  it('maps every frame of instrumented code to the column of the plain program', () => {
    const src = [
      'const ta = new Int32Array(4); function fail(i) { ta[i] = ta[i + 1] + 1; throw new Error("at " + i); }',
      'function step(n) { if (n > 0) return step(n - 1); ta[0]++; try { fail(ta[1]); } catch (e) { errors.push(e); } }',
      'const arrow = (k) => (ta[k] += 2, ta[k] > 1 ? step(ta[k]) : 0); arrow(1); arrow(2);',
      'try { [1].map((x) => ta[x] + fail(x)); } catch (e) { errors.push(e); }',
      '',
    ].join('\n');
    const file = '/x/columns-app.js';
    const out = transformSource({ source: src, file, url: `file://${file}`, isModule: false, options: shared });
    assert.ok(out.code);
    const plain = framesOf(src, file);
    const instrumented = framesOf(out.code, file, passThrough);
    assert.equal(instrumented.length, plain.length);
    assert.ok(plain.length >= 3);
    assert.notDeepEqual(instrumented, plain, 'the instrumented columns differ');
    assert.deepEqual(
      instrumented.map((frames) => frames.map(originalFrame)),
      plain,
    );
  });

  it('a column inside inserted text stands for the place of the insertion; unknown files stay as they are', () => {
    registerColumns('file:///x/t.js', [3, 2, 4, 0, 10, 8, 3, 5]);
    // line 3: 10 characters inserted before column 4 (0-based), then columns 8..11 replaced by 5 characters.
    assert.equal(originalColumn('/x/t.js', 3, 1), 1);
    assert.equal(originalColumn('/x/t.js', 3, 5), 5, 'inside the insertion');
    assert.equal(originalColumn('/x/t.js', 3, 14), 5, 'inside the insertion');
    assert.equal(originalColumn('/x/t.js', 3, 15), 5, 'the original character after it');
    assert.equal(originalColumn('/x/t.js', 3, 19), 9, 'inside the replacement');
    assert.equal(originalColumn('/x/t.js', 3, 24), 12, 'after the replacement');
    assert.equal(originalColumn('/x/t.js', 4, 24), 24, 'a line without edits');
    assert.equal(originalFrame('f (/x/t.js:3:15)'), 'f (/x/t.js:3:5)');
    assert.equal(originalFrame('/x/t.js:3:15'), '/x/t.js:3:5');
    assert.equal(originalFrame('f (/x/other.js:3:15)'), 'f (/x/other.js:3:15)');
  });
});
