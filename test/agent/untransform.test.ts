/**
 * Function.prototype.toString of instrumented functions gives the original text: every kind of
 * insertion the transform makes comes out again, for every function of real programs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { parse } from 'acorn';
import { full } from 'acorn-walk';
import { transformSource } from '../../src/agent/transform/index';
import { originalFunctionText, originalSourceText } from '../../src/agent/transform/untransform';
import { ROOT, testOptions } from './runAgent';

const counts = testOptions('/nonexistent');
const shared = testOptions('/nonexistent', { races: true, locks: true });

/** Where V8's text of a function starts: methods from their key (after `static`), others at the node. */
function functionRanges(source: string, isModule: boolean): [number, number][] {
  const opts = { ecmaVersion: 'latest' as const, allowHashBang: true, allowReturnOutsideFunction: !isModule, allowAwaitOutsideFunction: true };
  let ast;
  try {
    ast = parse(source, { ...opts, sourceType: isModule ? 'module' : 'script' });
  } catch {
    ast = parse(source, { ...opts, sourceType: 'module' }); // a .js file with import/export, transformed as a module
  }
  const methodStart = new Map<any, number>();
  const out: [number, number][] = [];
  full(ast, (n: any) => {
    if (n.type === 'MethodDefinition' || (n.type === 'Property' && (n.method || n.kind !== 'init'))) {
      let at = n.start;
      if (n.static) at = n.start + /^static\s*/.exec(source.slice(n.start))![0].length;
      methodStart.set(n.value, at);
    }
    if (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression' || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') {
      out.push([n.start, n.end]);
    }
  });
  for (const r of out) {
    for (const [fn, at] of methodStart) if (fn.start === r[0]) r[0] = at;
  }
  return out.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
}

/** Check every function of `source`, and the whole module: original text back from the instrumented text. */
function roundTrip(source: string, isModule: boolean, options = shared): number {
  const out = transformSource({ source, file: '/x/app.js', url: 'file:///x/app.js', isModule, options });
  if (out.code === null) return 0;
  assert.equal(originalSourceText(out.code, isModule), source, 'the whole module');
  const orig = functionRanges(source, isModule);
  const gen = functionRanges(out.code, isModule);
  if (!isModule) gen.pop(); // the hoisted function after the last line that registers the module
  assert.equal(gen.length, orig.length, 'the transform adds no functions');
  orig.forEach(([s, e], i) => {
    const [gs, ge] = gen[i]!;
    assert.equal(originalFunctionText(out.code!.slice(gs, ge)), source.slice(s, e));
  });
  return orig.length;
}

describe('agent: original text of instrumented functions', () => {
  it('takes out every kind of insertion', () => {
    const src = [
      'function plain(a, b) { return a + b; }',
      'function strict() { "use strict"; return this; }',
      'function loose() { "use strict"\n  return 1 }',
      'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }',
      'const arrow = (x) => x * 2, seq = (x) => (x, x + 1);',
      'class K extends Object { #p() { return 1; } static s(n) { return n && K.s(n - 1); } get g() { return 1; } down(n) { return n > 0 ? this.down(n - 1) : this.#p(); } }',
      'const o = { async m(v) { return v; }, *gen() { yield 1; }, [`k${1}`]() {} };',
      'function shared(ta, dv, get, i) {',
      '  ta[i] = ta[i + 1] + 1; ta[i]++; ta[i] += 2; get()[0] = 1',
      '  get()[1] = 2',
      '  ;[ta[0]] = [1]; ta[i] = plain(1, 2); ta[i] ||= 3;',
      '  ta.fill(0, 1); ta.at(-1); ta.set([1], 0); dv.getInt32(0); ta.sort();',
      '  for (let k = 0; k < ta.length; k++) ta[k] = ta[k] * 2;',
      '  for (const x of ta) i += x; const c = [...ta];',
      '  Atomics.add(ta, 0, 1); const A = Atomics; new SharedArrayBuffer(8);',
      '  return c.length + ta[(i, 0)];',
      '}',
      'async function later(ta, p) { ta[0] = await p; }',
      'function words(t,e,a){for(const x of e)t[x]=a[x];(a.p||[e]).forEach(x=>x);if(t)return[...t].reverse();return[...e].join()}',
      'function packed(O,t,n){var b,v;for(b=0;b<=15;b++)O[b]=0;for(v=0;v<n;v++)O[t[v]]++;O[2]=(v=2,plain(v,1));(O,t)[3]=4;return O[(b,0)]=(v=1,O[1])}',
      'function noSemicolons(n) {',
      '  if (n <= 0) return 0',
      '  console.log(n)',
      '  noSemicolons(n - 1)',
      '}',
      // Call sites of a function counted there: around the first argument, or the whole call.
      'function help(...a) { return a.length; }',
      'function callsHelp(xs) {',
      '  help()',
      '  return help(...xs) + help((xs), help()) + help(help(1, 2), ...xs)',
      '}',
    ].join('\n');
    assert.ok(roundTrip(src, false) >= 16);
    assert.ok(roundTrip(src, false, counts) >= 16);
    assert.ok(roundTrip('export async function f(ta) { ta[0] = await import.meta.x; }\nexport default class { m() { return 1; } }', true) === 3);
    // Heads and tails of every placement: directives, hashbangs, imports, a last line comment.
    assert.equal(roundTrip('#!/usr/bin/env node\nfunction a() {}\na() // last', false), 1);
    assert.equal(roundTrip('"use strict"\nfunction a() {}\na();', false), 1);
    assert.equal(roundTrip("'use strict';function a() {}", false), 1);
    assert.equal(roundTrip('"use strict"\nimport x from "y";\nexport function a() { return x; }\n', true), 1);
    assert.equal(roundTrip('export function a() {}\n// end', true), 1);
  });

  it('gives back the original text of every function of the fixture programs and examples', () => {
    let n = 0;
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (name === 'node_modules') continue;
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(c|m)?js$/.test(name)) {
          const source = readFileSync(p, 'utf8');
          n += roundTrip(source, name.endsWith('.mjs'));
          roundTrip(source, name.endsWith('.mjs'), counts);
        }
      }
    };
    walk(join(ROOT, 'test', 'fixtures'));
    walk(join(ROOT, 'examples'));
    assert.ok(n > 250, `checked ${n} functions`);
  });

  it('Function.prototype.toString gives the original text in a thread with the agent', () => {
    const src = 'function work(n) { const ta = new Int32Array(2); ta[0] = n; return ta[0] * 2; }\nwork';
    const out = transformSource({ source: src, file: '/x/app.js', url: 'file:///x/app.js', isModule: false, options: shared });
    const ctx = vm.createContext({ Int32Array, __pp: { m: () => ({ c: new Uint32Array(1), s: new Uint32Array(1) }) } });
    const fn = vm.runInContext(out.code!, ctx);
    assert.match(Function.prototype.toString.call(fn), /__ppM/);
    assert.equal(originalFunctionText(Function.prototype.toString.call(fn)), src.split('\n')[0]);
  });
});
