/** The source transform in-process: lines never move, positions map, failures leave code untouched. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { Edits } from '../../src/agent/transform/edits';
import { transformSource } from '../../src/agent/transform/index';
import { originalFunctionText } from '../../src/agent/transform/untransform';
import { callCounts } from '../../src/agent/runtime';
import { testOptions } from './runAgent';

const options = testOptions('/nonexistent');

const sharedOptions = testOptions('/nonexistent', { races: true, locks: true });

function transform(source: string, isModule = false, opts = options): string {
  const out = transformSource({ source, file: '/x/app.js', url: 'file:///x/app.js', isModule, options: opts });
  assert.ok(out.code !== null, 'transformed');
  return out.code;
}

/** Stand-ins for the shared-access runtime methods: every access goes through unchanged. */
const passThroughShared = {
  r: (_a: unknown, i: unknown) => i,
  w: (_a: unknown, i: unknown) => i,
  rw: (_a: unknown, i: unknown) => i,
  wk: (_a: unknown, i: unknown) => i,
  wv: (_t: unknown, v: unknown) => v,
  sab: (b: unknown) => b,
  it: (x: unknown) => x,
  io: (x: unknown) => x,
  v: (o: unknown) => o,
  A: (_s: number, a: unknown) => a,
  tm: (_s: number, o: any, name: string, ...args: unknown[]) => o[name](...args),
};

/** Run transformed script code with a stub __pp; returns [result, module funcs, counts]. */
function runScript(code: string, extra: Record<string, unknown> = {}, shared: Record<string, unknown> = {}): { result: unknown; funcs: number[]; names: string[]; c: number[]; prim: number[] } {
  const state: any = {};
  const context = vm.createContext({
    ...extra,
    __pp: {
      m(_url: string, funcs: number[], names: string[], _sites: number[], _file?: string, slots: number[] = []) {
        state.funcs = funcs;
        state.names = names;
        state.slots = [...slots];
        const n = names.length;
        state.rt = Object.assign(Object.create({ ...passThroughShared, ...shared }), { c: new Uint32Array(n + slots.length), p: new Uint32Array(n), d: new Uint32Array(n), s: new Uint32Array(n), fid: 1 });
        return state.rt;
      },
    },
  });
  const result = vm.runInContext(code, context);
  // Arrays made inside the vm context belong to another realm: copy them for deepEqual.
  const { c, p, s } = state.rt;
  // the runtime's counts records
  const { ncalls, prim } = callCounts(c, p, s, state.slots);
  return { result, funcs: [...state.funcs], names: [...state.names], c: ncalls, prim };
}

describe('agent: source transform', () => {
  it('compiles code from strings as one expression, its runtime in a scope of its own', () => {
    const opts = { ...testOptions('/tmp'), races: true };
    const source = '(function anonymous(a,b\n) {\nreturn a + b // sum\n})';
    const out = transformSource({ source, file: '[function 1]', url: '[function 1]', isModule: false, options: opts, expression: true });
    assert.ok(out.code?.startsWith('(function __ppH(){var __ppM=__ppH();return((function anonymous(a,b\n'), out.code ?? '');
    const { result, names, c } = runScript(`var seen = typeof __ppM; var f = ${out.code}; [f(2, 3), f(4, 5), seen, typeof __ppM, typeof __ppH]`);
    assert.deepEqual([...(result as unknown[])], [5, 9, 'undefined', 'undefined', 'undefined'], 'nothing declared in the global scope');
    assert.deepEqual(names, ['anonymous']);
    assert.deepEqual(c, [2]);
    assert.equal(originalFunctionText(String(runScript(`${out.code}`).result)), 'function anonymous(a,b\n) {\nreturn a + b // sum\n}');
    for (const notOne of ['var x = 1; x', '"use strict"', 'f(); g()', '#!/bin/node\n(1)']) {
      const r = transformSource({ source: notOne, file: '[vm 1]', url: '[vm 1]', isModule: false, options: opts, expression: true });
      assert.equal(r.code, null, notOne);
      assert.equal(r.notExpression, true, notOne);
    }
  });

  it('keeps every line where it was', () => {
    const src = '#!/usr/bin/env node\n"use strict";\n\nfunction a(x) {\n  return x;\n}\nconst b = (y) =>\n  y * 2;\nclass C { m() {} }\n';
    const code = transform(src);
    assert.equal(code.split('\n').length, src.split('\n').length);
    assert.ok(code.startsWith('#!/usr/bin/env node\n"use strict";var __ppM=') || code.startsWith('#!/usr/bin/env node\n"use strict";;var __ppM='), code);
  });

  it('counts calls exactly, with primitive calls for direct recursion', () => {
    const src = 'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nconst sq = (x) => x * x;\nconst f = (n) => (n <= 1 ? 1 : n * f(n - 1));\nfib(10) + sq(2) + sq(3) + f(4);';
    const r = runScript(transform(src));
    assert.equal(r.result, 55 + 4 + 9 + 24);
    assert.deepEqual(r.names, ['fib', 'sq', 'f']);
    assert.deepEqual(r.c, [177, 2, 4]);
    assert.deepEqual(r.prim, [1, 2, 1]);
  });

  it('falls back to depth tracking when a self-call cannot be counted in place, and stays exact', () => {
    const src = [
      'class T { down(n) { return n > 0 ? this.down(n - 1) : 0; } spin() { return this.k-- > 0 ? this.spin() : 1; } }',
      'const t = new T(); t.k = 3;',
      'function walk(list) { return list.length ? 1 + walk(...[list.slice(1)]) : 0; }',
      't.down(4) + t.spin() + walk([1, 2, 3]);',
    ].join('\n');
    const code = transform(src);
    assert.match(code, /try\{/, 'spin() (a member self-call without arguments) uses depth tracking');
    const r = runScript(code);
    assert.equal(r.result, 0 + 1 + 3);
    assert.deepEqual(r.names, ['down', 'spin', 'walk']);
    assert.deepEqual(r.c, [5, 4, 4]);
    assert.deepEqual(r.prim, [1, 1, 1]);
  });

  it('counts only calls through the function\'s own binding as self-calls', () => {
    const src = [
      'const pool = { run(x) { return x * 2; } };',
      'function run() { let s = 0; for (let i = 0; i < 5; i++) s += pool.run(i); return s; }',
      'const items = [];',
      'function push(x) { items.push(x); }',
      'class A { m() { return 1; } }',
      'class B extends A { m() { return super.m() + 1; } }',
      'function shadow(shadow) { return shadow(); }',
      'function inner(n) { const inner = () => n; return inner(); }',
      'const fact = function f(n) { return n <= 1 ? 1 : n * f(n - 1); };',
      'const down = (n) => (n > 0 ? down(n - 1) : 0);',
      'function blk(n) { if (n > 0) { const blk = () => 7; return blk(); } return 0; }',
      'for (let i = 0; i < 3; i++) push(i);',
      'run() + items.length + new B().m() + shadow(() => 3) + inner(4) + fact(4) + down(3) + blk(2);',
    ].join('\n');
    const r = runScript(transform(src));
    assert.equal(r.result, 20 + 3 + 2 + 3 + 4 + 24 + 0 + 7);
    const byName = (n: string, k = 0) => r.names.findIndex((x, i) => x === n && r.names.slice(0, i).filter((y) => y === n).length === k);
    const calls = (n: string, k = 0) => [r.c[byName(n, k)], r.prim[byName(n, k)]];
    assert.deepEqual(calls('run', 0), [5, 5], 'pool.run');
    assert.deepEqual(calls('run', 1), [1, 1], 'function run calls pool.run, not itself');
    assert.deepEqual(calls('push'), [3, 3], 'items.push is not push');
    assert.deepEqual(calls('m', 1), [1, 1], 'super.m() is A.m');
    assert.deepEqual(calls('shadow'), [1, 1], 'a parameter shadows the name');
    assert.deepEqual(calls('inner', 0), [1, 1], 'a local const shadows the name');
    assert.deepEqual(calls('f'), [4, 1], 'a named function expression calls itself');
    assert.deepEqual(calls('down'), [4, 1], 'const down = (…) => down(…)');
    assert.deepEqual(calls('blk'), [1, 1], 'a block-level const shadows the name');
  });

  it('counts a function that is only ever called by name at its call sites, exactly', () => {
    const src = [
      'function helper(x) { return x + 1; }',
      'const sq = (x) => x * x;',
      'function Point(x) { this.x = x; }',
      'const maybe = (x) => x;',
      'function rec(n) { return n > 0 ? rec(n - 1) : 0; }',
      'const named = function inner(n) { return n > 0 ? inner(n - 1) : 0; };',
      'function kept() { return 1; }',
      'const passed = () => 2;',
      'function reassigned() { return 3; }',
      'function* gen() { yield 1; }',
      'function viaTypeof() { return 4; }',
      'function outer() { if (true) { function blockFn() { return 5; } } return blockFn(); }',
      'var twice = function first() { return 6; };',
      'var twice = function second() { return 7; };',
      'let s = 0;',
      'for (let i = 0; i < 5; i++) s += helper(i) + sq(i) + helper(sq(i));',
      's += new Point(3).x + maybe?.(2) + rec(3) + named(2) + (() => sq(2))();',
      'const keep = [kept];',
      's += keep[0]() + [1].map(passed)[0];',
      's += reassigned(); reassigned = () => 30; s += reassigned();',
      's += [...gen()].length + (typeof viaTypeof === "function" ? viaTypeof() : 0) + outer() + twice();',
      's;',
    ].join('\n');
    const code = transform(src);
    const r = runScript(code);
    assert.equal(r.result, 142, 'what plain node gives');
    const at = (n: string, k = 0) => r.names.findIndex((x, i) => x === n && r.names.slice(0, i).filter((y) => y === n).length === k);
    const calls = (n: string, k = 0) => [r.c[at(n, k)], r.prim[at(n, k)]];
    assert.deepEqual(calls('helper'), [10, 10]);
    assert.deepEqual(calls('sq'), [11, 11], 'one of them from inside an arrow');
    assert.deepEqual(calls('Point'), [1, 1], 'new');
    assert.deepEqual(calls('maybe'), [1, 1], 'an optional call');
    assert.deepEqual(calls('rec'), [4, 1], 'self-call sites are the recursive calls');
    assert.deepEqual(calls('inner'), [3, 1], "a named function expression's own name");
    assert.deepEqual(calls('kept'), [1, 1]);
    assert.deepEqual(calls('passed'), [1, 1]);
    assert.deepEqual(calls('reassigned', 0), [1, 1]);
    assert.deepEqual(calls('reassigned', 1), [1, 1]);
    assert.deepEqual(calls('gen'), [1, 1]);
    assert.deepEqual(calls('viaTypeof'), [1, 1]);
    assert.deepEqual(calls('blockFn'), [1, 1], "a sloppy block's function is also bound outside the block");
    assert.deepEqual(calls('first'), [0, 0], 'redeclared before it was called');
    assert.deepEqual(calls('second'), [1, 1]);
    // Which were counted at their call sites: no counter at their entry.
    const entryCounted = (decl: string) => new RegExp(`${decl.replace(/[()*]/g, '\\$&')} \\{__ppM\\.c\\[`).test(code);
    for (const d of ['function helper(x)', 'function rec(n)', 'function inner(n)']) assert.ok(!entryCounted(d), `${d}: at its call sites`);
    assert.doesNotMatch(code, /const sq = \(x\) => \(__ppM/, 'sq: at its call sites');
    // One call site: no chain of one counter to break, so at entry.
    assert.match(code, /const maybe = \(x\) => \(__ppM/, 'maybe: at entry');
    for (const d of ['function Point(x)', 'function kept()', 'function reassigned()', 'function* gen()', 'function viaTypeof()', 'function blockFn()', 'function first()', 'function second()']) {
      assert.ok(entryCounted(d), `${d}: at entry`);
    }
  });

  it('keeps call-site counts exact where a call by name runs another function or none', () => {
    const src = [
      // new: the instance's constructor and new.target are the function, callable unnamed
      'function Point(x) { this.x = x; }',
      'const a = new Point(1), b = new Point(2);',
      'const c = new a.constructor(3); a.constructor.call(c, 4);',
      'let saved; function K() { saved = saved || new.target; }',
      'new K(); new K(); saved(); saved();',
      // an optional call of a var not yet assigned calls nothing, and ends its chain
      'var r = [late?.(), late?.().x];',
      'var late = function () { return { x: 1 }; };',
      'late(); late();',
      // a default parameter does not see the body's declarations
      'function g() { return "o"; }',
      'function h(p = g(), q = g()) { function g() { return "i"; } return p + q + g(); }',
      // sloppy mode: the block's function is also run's own blk, assigned when the block runs (Annex B)
      'function blk() { return "outer"; }',
      'function run() { { function blk() { return "inner"; } } return blk() + blk(); }',
      '[c.x, r.length, typeof saved, h(), g(), run(), blk()].join();',
    ].join('\n');
    const r = runScript(transform(src));
    assert.equal(r.result, '4,2,function,ooi,o,innerinner,outer', 'what plain node gives');
    const at = (n: string, k = 0) => r.names.findIndex((x, i) => x === n && r.names.slice(0, i).filter((y) => y === n).length === k);
    const calls = (n: string, k = 0) => [r.c[at(n, k)], r.prim[at(n, k)]];
    assert.deepEqual(calls('Point'), [4, 4]);
    assert.deepEqual(calls('K'), [4, 4]);
    assert.deepEqual(calls('late'), [2, 2]);
    assert.deepEqual(calls('g', 0), [3, 3], 'the outer g: two defaults and one call');
    assert.deepEqual(calls('g', 1), [1, 1], 'the inner g: the body\'s call');
    assert.deepEqual(calls('blk', 0), [1, 1], 'the outer blk: the last call');
    assert.deepEqual(calls('blk', 1), [2, 2], "run's calls: its own blk, once the block ran");
  });

  it("keeps V8's text of a call site in a TypeError: the counter goes around the first argument", () => {
    const src = [
      'function h(...a) { return a.length; }',
      'const errs = [];',
      'for (const call of [() => h(1).x(), () => h(...[1, 2])(), () => h(h(1)).y.z()]) {',
      '  try { call(); } catch (e) { errs.push(e.message); }',
      '}',
      'errs.join("; ");',
    ].join('\n');
    const code = transform(src);
    assert.match(code, /h\(\(__ppM\.c\[\d+\]\+\+,1\)\)\.x\(\)/, 'h: at its call sites');
    const r = runScript(code);
    assert.equal(r.result, 'h(...).x is not a function; h(...) is not a function; Cannot read properties of undefined (reading \'z\')');
    assert.deepEqual([r.c[0], r.prim[0]], [4, 4]);
    // A self-call of a function counted at entry (it is passed as a value) too.
    const rec = transform('function f(n) { if (n > 0) return f(n - 1).x(); return {}; }\nlet m = ""; try { [f][0](2); } catch (e) { m = e.message; } m;');
    assert.match(rec, /f\(\(__ppM\.s\[0\]\+\+,n - 1\)\)\.x\(\)/);
    const rr = runScript(rec);
    assert.equal(rr.result, 'f(...).x is not a function');
    assert.deepEqual([rr.c[0], rr.prim[0]], [3, 1]);
  });

  it('opens a call site counter around its first argument before the shared pass wraps a part of it', () => {
    const src = [
      'function add(x) { return x.length; }',
      'const o = { chunk: (a) => [a, a] };',
      'add(o.chunk(1).map((c) => c)) + add(o.chunk(2));',
    ].join('\n');
    const code = transform(src, false, sharedOptions);
    assert.match(code, /add\(\(__ppM\.c\[\d+\]\+\+,__ppM\.v\(/, code);
    const r = runScript(code);
    assert.equal(r.result, 4);
    assert.equal(r.c[0], 2);
  });

  it('counts every function at entry when something could reach one without its name', () => {
    for (const [src, total, calls] of [
      ['function e1() { return 1; }\neval("e1()") + e1() + e1();', 3, 3],
      ['function ac(n) { return n > 0 ? arguments.callee(n - 1) : 0; }\nac(2) + ac(0);', 0, 4],
      ['function wf() { return 1; }\nlet t = 0; with ({}) t += wf(); t += wf(); t;', 2, 2],
      ['function pa(n) { return n > 0 ? pass(arguments) : 0; }\nfunction pass(a) { return a.callee(0) + 1; }\npa(1) + pa(0);', 1, 3],
    ] as const) {
      const code = transform(src);
      assert.doesNotMatch(code, /\(__ppM\.c\[\d+\]\+\+,/, src);
      const r = runScript(code);
      assert.equal(r.result, total, src);
      assert.equal(r.c[0], calls, src);
    }
  });

  it("keeps call-site counts in a module that reads a parser node's .callee", () => {
    const code = transform('function k(x) { return x.callee; }\nk({ callee: 1 }) + k({ callee: 2 });');
    assert.match(code, /k\(\(__ppM\.c\[\d+\]\+\+,/);
    const r = runScript(code);
    assert.equal(r.result, 3);
    assert.deepEqual([r.c[0], r.prim[0]], [2, 2]);
  });

  it('nests a self-call inside the element access it starts', () => {
    const src = 'const ta = new Int32Array(4);\nfunction f(n) { if (n > 0) f(n - 1)[n] = n; return ta; }\nArray.from(f(3)).join();';
    const code = transform(src, false, sharedOptions);
    assert.match(code, /\(__ppM\.t=f\(\(__ppM\.c\[\d+\]\+\+,n - 1\)\)\)\[__ppM\.w\(__ppM\.t,n,\d+\)\]/);
    const seen: unknown[] = [];
    const r = runScript(code, { Int32Array, Array }, { w: (a: unknown, i: unknown) => (seen.push(a), i) });
    assert.equal(r.result, '0,1,2,3');
    assert.deepEqual(r.prim, [1]);
    assert.equal(seen.length, 3);
    assert.ok(seen.every((a) => a instanceof Int32Array), 'the write is noted on the array, not on the function');
  });

  it('maps every function to the generated column V8 reports, even on the header line', () => {
    const src = '"use strict";function a(x){return x}const b=async (y)=>y,c=z=>z;class K{constructor(q){}get g(){return 1}*gen(){}}a(1);';
    const code = transform(src);
    const r = runScript(code);
    assert.deepEqual(r.names, ['a', 'b', 'c', 'K', 'get g', 'gen']);
    const line = code.split('\n')[0]!;
    const expected = ['(x)', 'async (y)', 'z=>', '(q)', '()', '()'];
    r.names.forEach((name, i) => {
      const col = r.funcs[4 * i + 3]!;
      assert.ok(line.slice(col - 1).startsWith(expected[i]!), `${name} at ${col}: ${line.slice(col - 1, col + 10)}`);
      const orig = r.funcs[4 * i + 1]!;
      assert.ok(src.slice(orig - 1).startsWith(['function a', 'async', 'z=>', 'constructor', 'get g', '*gen'][i]!), `${name} original at ${orig}`);
    });
  });

  it('keeps directive prologues in force', () => {
    // `g = f` reads f's binding: f is counted at entry.
    const src = 'function f() {\n  "use strict";\n  return this;\n}\nconst g = f;\ng() === undefined;';
    const code = transform(src);
    assert.match(code, /"use strict";;__ppM\.c\[0\]\+\+;/);
    assert.equal(runScript(code).result, true);
  });

  it('parses ES modules with top-level await and leaves unparsable code untouched', () => {
    const esm = transform('import x from "y";\nexport function f() {}\nawait f();\n', true);
    assert.match(esm, /^import __ppM from "data:text\/javascript,[^"\n]+";import x from "y";\n/, 'imported before the other imports');
    assert.equal(esm.split('\n').length, 4);
    const alone = transform('// no imports\nexport function f() {}\nawait f();\n', true);
    assert.match(alone, /^\/\/ no imports\nexport function f\(\) \{__ppM\.c\[0\]\+\+;\}\nawait f\(\);\nimport __ppM from "data:text\/javascript,[^"\n]+";$/, 'imported after the last line');
    assert.equal(alone.split('\n').length, 4);
    const bad = transformSource({ source: 'function (', file: '/x/bad.js', url: 'file:///x/bad.js', isModule: false, options });
    assert.equal(bad.code, null);
    const none = transformSource({ source: 'let x = 1;', file: '/x/none.js', url: 'file:///x/none.js', isModule: false, options });
    assert.equal(none.code, null, 'nothing to count: untouched');
  });

  it('instruments ES modules with Node 20 import assertions, leaving them as written', () => {
    const src = [
      "import cfg from './cfg.json' assert { type: 'json' };",
      "export { default as more } from './more.json' assert { type: 'json' };",
      "import assert from 'node:assert';",
      'const a = new Int32Array(new SharedArrayBuffer(8));',
      'a[0] = cfg.n; assert.ok(a[0]);',
    ].join('\n');
    const code = transform(src, true, sharedOptions);
    assert.equal(code.split('\n').length, 5);
    assert.match(code, /;import cfg from '\.\/cfg\.json' assert \{ type: 'json' \};/);
    assert.match(code, /'\.\/more\.json' assert \{ type: 'json' \};/);
    assert.match(code, /a\[__ppM\.w\(a,0,\d+\)\] = cfg\.n; assert\.ok\(a\[__ppM\.r\(a,0,\d+\)\]\);/);
  });

  it('keeps code without semicolons working: no inserted parenthesis continues the line before', () => {
    const src = [
      'const log = []',
      'const ta = new Int32Array(8)',
      'function get () { return ta }',
      'function countdown (n) {',
      '  if (n <= 0) return',
      '  log.push(n)',
      '  countdown(n - 1)',
      '}',
      'countdown(3)',
      'get()',
      'get()[0] = 5',
      'get()[1]++',
      'if (log.length) get()[2] = 7',
      'switch (1) { case 1: log.push(0)',
      '  get()[3] = 1 }',
      'log.join() + ":" + Array.from(ta).join()',
    ].join('\n');
    const code = transform(src, false, sharedOptions);
    assert.equal(code.split('\n').length, src.split('\n').length, 'no line added');
    assert.match(code, /\n;\(__ppM\.c\[\d+\]\+\+,get\(\)\)\n/);
    assert.match(code, /\nif \(log\.length\) \(__ppM\.t=/, 'a statement that is not in a list gets no `;`');
    const r = runScript(code, { Int32Array, Array });
    assert.equal(r.result, '3,2,1,0:5,1,7,1,0,0,0,0');
    assert.deepEqual(r.c, [5, 4], "get, countdown");
  });

  it('evaluates the object of an element access once: getters, proxies and calls run as often as written', () => {
    const src = [
      'const ta = new Int32Array(4);',
      'let n = 0;',
      'function get() { n++; return ta; }',
      'const o = { get arr() { n += 100; return ta; }, none: null };',
      'const p = new Proxy({ ta }, { get(t, k) { n += 10000; return t[k]; } });',
      'get()[0] = 1;',
      'o.arr[1] += 2;',
      'p.ta[2] = o.arr[1] + p.ta[0];',
      'let i = 0;',
      'ta[i++] = 7;',
      'const missing = o.none?.arr[0];',
      'const chained = o?.arr[1];',
      '[n, i, String(missing), chained, Array.from(ta).join()].join(" ")',
    ].join('\n');
    const plain = vm.runInNewContext(src, { Int32Array, Proxy, Array, String });
    const code = transform(src, false, sharedOptions);
    assert.equal(runScript(code, { Int32Array, Proxy, Array, String }).result, plain);
    assert.equal(plain, '20301 1 undefined 2 7,2,3,0');
  });

  it('notes destructuring values and for-in/of targets as writes, computed pattern keys as reads', () => {
    const src = [
      'const ta = new Int32Array(6);',
      'let t;',
      '({ t = 5, u: ta[0], [ta[5]]: ta[1] } = { u: 42, 0: 7 });',
      'for (ta[2] of [1, 2, 3]);',
      'for ({ v: ta[3] } of [{ v: 9 }]);',
      'for (ta[4] in { 8: 0 });',
      'for (const { [ta[5]]: z } of [{ 0: 1 }]) t += z;',
      '[t, Array.from(ta).join()].join(" ")',
    ].join('\n');
    const plain = vm.runInNewContext(src, { Int32Array, Array });
    assert.equal(plain, '6 42,7,3,9,8,0');
    const seen: string[] = [];
    const note = (kind: string) => (_a: unknown, i: unknown) => (seen.push(`${kind}${String(i)}`), i);
    const r = runScript(transform(src, false, sharedOptions), { Int32Array, Array }, { r: note('r'), w: note('w') });
    assert.equal(r.result, plain);
    assert.deepEqual(seen, ['w0', 'r5', 'w1', 'w2', 'w2', 'w2', 'w3', 'w4', 'r5']);
  });

  it('hoists a counted loop only when its body leaves the index alone', () => {
    const loops = [
      ['for (let i = 0; i < n; i++) out[i] = i;', true],
      ['for (let i = 0; i < n; i++) { out[i] = i; i++; }', false],
      ['for (let i = 0; i < n; i++) { out[i] = i; i += 1; }', false],
      ['for (let i = 0; i < n; i++) { let i = 2; out[i] = 1; }', false],
    ] as const;
    for (const [loop, hoisted] of loops) {
      const code = transform(`const out = new Int32Array(8), n = 8;\n${loop}`, false, sharedOptions);
      assert.equal(code.includes('__ppM.lp('), hoisted, loop);
    }
  });

  it('keeps a parenthesised sequence one value when it becomes an argument', () => {
    const src = [
      'const ta = new Int32Array(4), log = [];',
      'const f = (x) => (log.push(x), x * 10);',
      'let u;',
      'ta[0] = (u = 2, f(u));',
      'ta[1] = (log.push("b"), 7);',
      '(log.push("o"), ta)[2] = 5;',
      'ta.join() + ":" + log.join()',
    ].join('\n');
    const seen: unknown[] = [];
    const r = runScript(transform(src, false, sharedOptions), { Int32Array }, { w: (a: unknown, i: unknown) => (seen.push(a), i) });
    assert.equal(r.result, '20,7,5,0:2,b,o');
    assert.ok(seen.length >= 1 && seen.every((a) => a instanceof Int32Array), 'the temporary holds the sequence\'s value');
  });

  it('keeps an insertion from gluing to a word before it', () => {
    const src = 'function f(t) { if (t) return[...t].reverse(); return[...t].join(); }\nf(new Int32Array(2)) + f([1, 2])';
    const code = transform(src, false, sharedOptions);
    assert.match(code, /return\u00a0__ppM\.tm\(/);
    // f(new Int32Array(2)) + f([1, 2]): two reversed arrays added as strings.
    assert.equal(runScript(code, { Int32Array }).result, '0,02,1');
  });

  it('applies insertions and replacements in one pass with an offset map', () => {
    const e = new Edits();
    e.insert(0, 'A');
    e.insert(4, '(', -1);
    e.insert(4, ')', 100);
    e.insert(4, ']', 1);
    e.insert(4, '[', -5);
    e.replace(1, 2, '<>');
    const out = e.apply('abcdef');
    assert.equal(out.code, 'Aa<>cd])[(ef', 'at one offset: closings (inner first), then openings (outer first)');
    assert.equal(out.generatedOffset(0), 1);
    assert.equal(out.generatedOffset(2), 4);
    assert.equal(out.generatedOffset(4), 10);
    assert.throws(() => e.insert(0, 'x\ny'));
    const overlap = new Edits();
    overlap.replace(0, 3, 'x');
    overlap.replace(2, 4, 'y');
    assert.throws(() => overlap.apply('abcdef'));
  });
});
