/**
 * The shared-access pass: computed member accesses `x[e]` become calls that note the access
 * when x is a view over a SharedArrayBuffer and return the key (`a[i]` → `a[__ppM.r(a,i,7)]`;
 * x is evaluated once: names and `this` are repeated, anything else goes through `__ppM.t`);
 * typed-array range methods, DataView get/set and Buffer methods go through `__ppM.tm`,
 * whole-view readers get their receiver checked (`__ppM.v(o,7).join()`), spreads and copies
 * read through `__ppM.it`, iteration that may stop or synchronise through `__ppM.io`; every
 * `Atomics` reference becomes the per-site wrapper `__ppM.A(7,Atomics)`; `new
 * SharedArrayBuffer(n)` is named where it is allocated. Insertions only, except the `.name(`
 * of a routed method call.
 */
import { fullAncestor } from 'acorn-walk';
import { SiteKind } from '../../protocol/events';
import { FROM_OWNERS, RANGE_METHODS, STATIC_READERS, VIEW_COPIERS, VIEW_READERS } from '../shared/methods';
import type { TransformContext } from './types';

// Openings go after the call-counter pass's arrow-body openings (-100) and closings before its
// closings (+100); among ours, outer nodes open first and close last.
const open = (depth: number): number => -99 + depth * 1e-4;
const close = (depth: number): number => 99 - depth * 1e-4;

/** True when evaluating `n` twice is harmless and cheap: a variable (not `arguments`) or `this`. */
function isSimple(n: any): boolean {
  if (n.type === 'Identifier') return n.name !== 'arguments';
  return n.type === 'ThisExpression';
}

/** True when `k` is a string a typed array reads as an element index (a number's canonical form). */
function isIndexString(k: unknown): boolean {
  return typeof k === 'string' && k !== '' && String(Number(k)) === k;
}

/** True when `n` continues an optional chain (`a?.b` in `a?.b[i]`): parentheses would end the chain's short-circuit. */
function inOptionalChain(n: any): boolean {
  for (;;) {
    if (n.type === 'MemberExpression') {
      if (n.optional) return true;
      n = n.object;
    } else if (n.type === 'CallExpression') {
      if (n.optional) return true;
      n = n.callee;
    } else return false;
  }
}

/** True when evaluating `n` cannot run a synchronisation (no calls but Math.*, no await/yield/new). */
function syncFree(n: any): boolean {
  let free = true;
  const visit = (x: any): void => {
    if (!free || !x || typeof x.type !== 'string') return;
    switch (x.type) {
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
      case 'ClassExpression':
        return;
      case 'CallExpression': {
        const c = x.callee;
        if (!(c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && c.object.name === 'Math')) {
          free = false;
          return;
        }
        break;
      }
      case 'NewExpression':
      case 'AwaitExpression':
      case 'YieldExpression':
      case 'TaggedTemplateExpression':
      case 'ImportExpression':
        free = false;
        return;
    }
    for (const k of Object.keys(x)) {
      if (k === 'loc' || k === 'type' || k === 'start' || k === 'end') continue;
      const v = x[k];
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v);
    }
  };
  visit(n);
  return free;
}

/** True when a loop body may stop before the iteration ends (break, return, throw, labelled continue). */
function leavesEarly(n: any): boolean {
  let found = false;
  const visit = (x: any): void => {
    if (found || !x || typeof x.type !== 'string') return;
    if (x.type === 'FunctionExpression' || x.type === 'ArrowFunctionExpression' || x.type === 'FunctionDeclaration' || x.type === 'ClassExpression' || x.type === 'ClassDeclaration') return;
    if (x.type === 'BreakStatement' || x.type === 'ReturnStatement' || x.type === 'ThrowStatement' || (x.type === 'ContinueStatement' && x.label)) {
      found = true;
      return;
    }
    for (const k of Object.keys(x)) {
      if (k === 'loc') continue;
      const v = x[k];
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object' && typeof v.type === 'string') visit(v);
    }
  };
  visit(n);
  return found;
}

/** How a computed member is used by its parent. */
type Role = 'read' | 'write' | 'update' | 'skip';

function roleOf(node: any, parent: any, ancestors: any[]): { role: Role; assign?: any } {
  if (!parent) return { role: 'read' };
  switch (parent.type) {
    case 'CallExpression':
    case 'NewExpression':
      return parent.callee === node ? { role: 'skip' } : { role: 'read' };
    case 'TaggedTemplateExpression':
      return parent.tag === node ? { role: 'skip' } : { role: 'read' };
    case 'UnaryExpression':
      return parent.operator === 'delete' ? { role: 'skip' } : { role: 'read' };
    case 'UpdateExpression':
      return { role: 'update' };
    case 'AssignmentExpression':
      return parent.left === node ? { role: 'write', assign: parent } : { role: 'read' };
    case 'ForInStatement':
    case 'ForOfStatement':
      // `for (a[i] of xs)`: the target is evaluated and written once per iteration, after the step.
      return parent.left === node ? { role: 'write' } : { role: 'read' };
    case 'ObjectPattern':
      // acorn-walk enters a pattern's values without its Property nodes: `({ k: a[0] } = o)`
      // writes a[0], while a computed key (`{ [a[0]]: v }`) is read.
      if (!parent.properties.some((p: any) => p.type === 'Property' && p.value === node)) return { role: 'read' };
      return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
    case 'ArrayPattern':
    case 'RestElement':
      return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
    case 'AssignmentPattern':
      if (parent.left !== node) return { role: 'read' };
      return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
    default:
      return { role: 'read' };
  }
}

/** A pattern target inside `[…] = v`, `({…} = v)` or a for-in/of head without a declaration (not a declaration). */
function inAssignmentPattern(ancestors: any[]): boolean {
  for (let k = ancestors.length - 2; k >= 0; k--) {
    const a = ancestors[k];
    if (a.type === 'ArrayPattern' || a.type === 'ObjectPattern' || a.type === 'Property' || a.type === 'AssignmentPattern' || a.type === 'RestElement') continue;
    if (a.type === 'ForOfStatement' || a.type === 'ForInStatement') return a.left === ancestors[k + 1];
    return a.type === 'AssignmentExpression' && a.left === ancestors[k + 1];
  }
  return false;
}

/** Add the shared-memory edits and sites to the module. */
export function instrumentSharedAccess(ctx: TransformContext): void {
  const { options, source, edits } = ctx;
  const M = ctx.runtimeVar;
  const races = options.races;
  const atomics = options.races || options.locks;
  if (!races && !atomics) return;

  // Loops whose accesses are checked once per loop run (see planLoop); their members are skipped below.
  const hoisted = new Set<any>();
  if (races) {
    fullAncestor(ctx.ast, (node: any, _st: unknown, ancestors: any[]) => {
      if (node.type !== 'ForStatement') return;
      const parent = ancestors[ancestors.length - 2];
      if (parent?.type === 'LabeledStatement') return;
      const plan = planLoop(node, source);
      if (!plan) return;
      const calls = plan.accesses.map((a) => {
        hoisted.add(a.member);
        const kind = a.kind === 'r' ? SiteKind.Read : a.kind === 'w' ? SiteKind.Write : SiteKind.ReadWrite;
        const s = ctx.addSiteAt(a.member, kind);
        const code = a.kind === 'r' ? 0 : a.kind === 'w' ? 1 : 2;
        // The index at the first two iterations (k replaced by its start value, and that plus one).
        const first = substitute(source, a.member.property, plan.k, plan.init);
        const second = substitute(source, a.member.property, plan.k, `(${plan.init}+1)`);
        return `${M}.lp(${a.member.object.name},${first},${second},${plan.init},${plan.bound},${plan.incl ? 1 : 0},${s},${code})`;
      });
      // Behind the gate: an unsampled segment skips the calls and their arguments (one load and a
      // branch). A call whose body only tested the flag still cost 8% on matmul's inner loops.
      edits.insert(node.start, `{${M}.g.on&&(${calls.join(',')});`, open(ancestors.length - 1));
      edits.insert(node.end, `}`, close(ancestors.length - 1));
    });
  }

  fullAncestor(ctx.ast, (node: any, _st: unknown, ancestors: any[]) => {
    const depth = ancestors.length;
    const parent = ancestors[depth - 2];
    switch (node.type) {
      case 'MemberExpression':
        if (races) member(node, parent, ancestors, depth);
        return;
      case 'Identifier':
        if (atomics && node.name === 'Atomics') atomicsRef(node, parent, depth);
        return;
      case 'NewExpression':
        if (atomics && node.callee.type === 'Identifier' && node.callee.name === 'SharedArrayBuffer') {
          const s = ctx.addSiteAt(node, SiteKind.Alloc);
          edits.insert(node.start, `${M}.sab(`, open(depth));
          edits.insert(node.end, `,${s})`, close(depth));
        } else if (races && node.callee.type === 'Identifier' && VIEW_COPIERS.has(node.callee.name) && node.arguments.length === 1 && node.arguments[0].type !== 'SpreadElement') {
          wrapWhole(node.arguments[0], depth); // `new Int32Array(view)` copies the view
        }
        return;
      case 'CallExpression':
        if (races && !rangeCall(node, parent, depth)) {
          viewReader(node, depth);
          copyFrom(node, depth);
          reflectCall(node, depth);
        }
        return;
      case 'SpreadElement':
        if (races && parent && (parent.type === 'ArrayExpression' || parent.type === 'CallExpression' || parent.type === 'NewExpression')) {
          wrapWhole(node.argument, depth);
        }
        return;
      case 'ForOfStatement':
        // A body that cannot synchronise or stop early reads all of it at once; else each element as it comes.
        if (races) (!node.await && syncFree(node.body) && !leavesEarly(node.body) ? wrapWhole : wrapIterated)(node.right, depth);
        return;
      case 'VariableDeclarator':
        if (races && node.id.type === 'ArrayPattern' && node.init) wrapIterated(node.init, depth);
        return;
      case 'AssignmentExpression':
        if (races && node.left.type === 'ArrayPattern' && node.operator === '=') wrapIterated(node.right, depth);
        return;
    }
  });

  /** `fn(expr, s)` around an expression (a bare sequence gets parentheses of its own). */
  function wrapWith(fn: string, expr: any, kind: SiteKind, depth: number): void {
    const s = ctx.addSiteAt(expr, kind);
    const seq = expr.type === 'SequenceExpression';
    edits.insert(expr.start, `${M}.${fn}(${seq ? '(' : ''}`, open(depth));
    edits.insert(expr.end, `${seq ? ')' : ''},${s})`, close(depth));
  }

  /** A shared view read whole here (spread, copy, for-of that cannot synchronise). */
  function wrapWhole(expr: any, depth: number): void {
    wrapWith('it', expr, SiteKind.Read, depth);
  }

  /** A shared view iterated here (for-of that may synchronise or stop, `[a, b] = view`): each element recorded as it is read. */
  function wrapIterated(expr: any, depth: number): void {
    wrapWith('io', expr, SiteKind.Read, depth);
  }

  /** `o.join()`, `o.reduce(f)`…: the call stays as written, its receiver checked by `__ppM.v(o, s)`. */
  function viewReader(node: any, depth: number): void {
    const callee = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier' || !VIEW_READERS.has(callee.property.name)) return;
    const obj = callee.object;
    if (obj.type === 'Super' || inOptionalChain(obj)) return;
    if (callee.property.name === 'toString' && node.arguments.length > 1) return;
    if (obj.type === 'Identifier' && (obj.name === 'Array' || obj.name === 'Object')) return;
    wrapWith('v', obj, SiteKind.Read, depth);
  }

  /** `Array.from(view)`, `Int32Array.from(view)`, `Buffer.from(view)` copy the view whole; `JSON.stringify(view)`, `Object.values(view)` read it whole. */
  function copyFrom(node: any, depth: number): void {
    const callee = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed || callee.object.type !== 'Identifier' || callee.property.type !== 'Identifier') return;
    const owner = callee.object.name;
    const name = callee.property.name;
    if (!(FROM_OWNERS.has(owner) && name === 'from') && !STATIC_READERS.has(`${owner}.${name}`)) return;
    const first = node.arguments[0];
    if (first && first.type !== 'SpreadElement') wrapWhole(first, depth);
  }

  /** `Reflect.get(v, k)` reads element k of a view and `Reflect.set(v, k, x)` writes it: the key is wrapped as `v[k]`'s would be. */
  function reflectCall(node: any, depth: number): void {
    const callee = node.callee;
    if (callee.type !== 'MemberExpression' || callee.computed || callee.object.type !== 'Identifier' || callee.object.name !== 'Reflect') return;
    const name = callee.property.type === 'Identifier' ? callee.property.name : '';
    if (name !== 'get' && name !== 'set') return;
    const [obj, key, value] = node.arguments;
    if (!obj || !key || obj.type === 'SpreadElement' || key.type === 'SpreadElement' || !isSimple(obj)) return;
    // A write noted before a right side that may synchronise would land in the wrong segment.
    if (name === 'set' && (!value || value.type === 'SpreadElement' || !syncFree(value))) return;
    const read = name === 'get';
    wrapKey(key, source.slice(obj.start, obj.end), read ? 'r' : 'w', ctx.addSiteAt(node, read ? SiteKind.Read : SiteKind.Write), '', depth);
  }

  function member(node: any, parent: any, ancestors: any[], depth: number): void {
    if (!node.computed || node.object.type === 'Super' || hoisted.has(node)) return;
    const key = node.property;
    // A constant string key is a property name, unless it is a number's canonical form: v['0'] and
    // v[`1`] are elements of a typed array as much as v[0].
    if (key.type === 'Literal' && typeof key.value === 'string' && !isIndexString(key.value)) return;
    if (key.type === 'TemplateLiteral' && key.expressions.length === 0 && !isIndexString(key.quasis[0]?.value?.cooked)) return;
    const { role, assign } = roleOf(node, parent, ancestors);
    if (role === 'skip') return;
    const obj = node.object;
    let objText: string;
    // Variables and `this` are named twice; anything else (a getter, a proxy, a call) is
    // evaluated once into a temporary. An object that continues an optional chain (`a?.b`
    // in `a?.b[i]`) can be neither (parentheses would end the short-circuit): unrecorded.
    if (isSimple(obj)) {
      objText = source.slice(obj.start, obj.end);
      if (/[\n\r\u2028\u2029]/.test(objText)) return;
    } else if (inOptionalChain(obj)) {
      return;
    } else {
      // A parenthesised sequence `(a, b)[i]` starts inside its parentheses: add our own.
      const seq = obj.type === 'SequenceExpression';
      edits.insert(obj.start, `(${M}.t=${seq ? '(' : ''}`, open(depth));
      edits.insert(obj.end, seq ? '))' : ')', close(depth));
      objText = `${M}.t`;
    }
    let fn: string;
    let extra = '';
    let kind: SiteKind;
    if (role === 'read') {
      fn = 'r';
      kind = SiteKind.Read;
    } else if (role === 'update') {
      fn = 'rw';
      kind = SiteKind.ReadWrite;
    } else if (!assign) {
      fn = 'w'; // destructuring target: the value is already computed when the target is evaluated
      kind = SiteKind.Write;
    } else {
      const compound = assign.operator !== '=';
      const logical = assign.operator === '&&=' || assign.operator === '||=' || assign.operator === '??=';
      kind = compound ? SiteKind.ReadWrite : SiteKind.Write;
      if (!logical && syncFree(assign.right)) {
        fn = compound ? 'rw' : 'w';
      } else {
        // The right side may synchronise (or may not write at all): note the write after it
        // ran; wk leaves a token in __ppM.q that the value end reads before the right side.
        fn = 'wk';
        extra = compound ? ',1' : '';
        const s = ctx.addSiteAt(node, kind);
        const seq = assign.right.type === 'SequenceExpression'; // `a[i] = (x, f())`: one argument, not two
        edits.insert(assign.right.start, `${M}.wv(${M}.q,${seq ? '(' : ''}`, open(depth));
        edits.insert(assign.right.end, `${seq ? ')' : ''},${s})`, close(depth));
        wrapKey(key, objText, fn, s, extra, depth);
        return;
      }
    }
    wrapKey(key, objText, fn, ctx.addSiteAt(node, kind), extra, depth);
  }

  function wrapKey(key: any, objText: string, fn: string, s: number, extra: string, depth: number): void {
    const seq = key.type === 'SequenceExpression';
    edits.insert(key.start, `${M}.${fn}(${objText},${seq ? '(' : ''}`, open(depth));
    edits.insert(key.end, `${seq ? ')' : ''},${s}${extra})`, close(depth));
  }

  function atomicsRef(node: any, parent: any, depth: number): void {
    if (!parent) return;
    const ok =
      (parent.type === 'MemberExpression' && parent.object === node) ||
      (parent.type === 'VariableDeclarator' && parent.init === node) ||
      (parent.type === 'AssignmentExpression' && parent.right === node) ||
      (parent.type === 'CallExpression' && parent.arguments.includes(node));
    if (!ok) return;
    const s = ctx.addSiteAt(parent.type === 'MemberExpression' ? parent : node, SiteKind.Atomic);
    edits.insert(node.start, `${M}.A(${s},`, open(depth));
    edits.insert(node.end, `)`, close(depth));
  }

  /**
   * Route `o.name(args)` through `__ppM.tm(s, o, 'name', args)` for range methods; true when routed.
   * `o?.name(args)` ending its chain becomes `((__ppM.t=o)==null?void 0:__ppM.tm(s,__ppM.t,'name',args))`:
   * o once, and the arguments evaluated only when o is there, as the chain would.
   */
  function rangeCall(node: any, parent: any, depth: number): boolean {
    const callee = node.callee;
    if (node.optional || callee.type !== 'MemberExpression' || callee.computed) return false;
    const optional = callee.optional === true;
    if (optional && !(parent?.type === 'ChainExpression' && parent.expression === node)) return false;
    if (callee.object.type === 'Super' || callee.property.type !== 'Identifier') return false;
    const name = callee.property.name;
    if (!RANGE_METHODS.has(name)) return false;
    if (name === 'toString' && node.arguments.length < 2) return false; // Buffer#toString(encoding, start, end)
    if (callee.object.type === 'Identifier' && ['Atomics', 'Reflect', 'Object', 'JSON'].includes(callee.object.name)) return false;
    if (inOptionalChain(callee.object)) return false;
    if (node.arguments.some((a: any) => a.type === 'SpreadElement')) return false;
    const first = node.arguments[0];
    const to = first ? first.start : node.end - 1;
    if (!first && source[to] !== ')') return false;
    // Only the plain shape `obj.name(`: parentheses or comments in between keep the call as it is.
    const between = source.slice(callee.object.end, to);
    if (!new RegExp(`^[ \\t]*${optional ? '\\?' : ''}\\.[ \\t]*${name}[ \\t]*\\([ \\t]*$`).test(between)) return false;
    const s = ctx.addSiteAt(node, SiteKind.Other);
    if (optional) {
      edits.insert(callee.object.start, `((${M}.t=`, open(depth));
      edits.replace(callee.object.end, to, `)==null?void 0:${M}.tm(${s},${M}.t,'${name}'${first ? ',' : ''}`);
      edits.insert(node.end, ')', close(depth));
      return true;
    }
    edits.insert(callee.object.start, `${M}.tm(${s},`, open(depth));
    edits.replace(callee.object.end, to, `,'${name}'${first ? ',' : ''}`);
    return true;
  }
}

/** The source of `expr` with every reference to identifier `k` replaced by `value` (parenthesised). */
function substitute(source: string, expr: any, k: string, value: string): string {
  const refs: { start: number; end: number }[] = [];
  const walk = (x: any): void => {
    if (!x || typeof x.type !== 'string') return;
    if (x.type === 'Identifier') {
      if (x.name === k) refs.push(x);
      return;
    }
    if (x.type === 'MemberExpression') {
      walk(x.object);
      if (x.computed) walk(x.property);
      return;
    }
    for (const key of ['left', 'right', 'argument', 'expression']) if (x[key]) walk(x[key]);
  };
  walk(expr);
  refs.sort((a, b) => a.start - b.start);
  let out = '';
  let at = expr.start;
  for (const r of refs) {
    out += source.slice(at, r.start) + value;
    at = r.end;
  }
  return `(${out + source.slice(at, expr.end)})`;
}

/** A loop whose typed-array accesses can be recorded once before it runs. */
interface LoopPlan {
  k: string;
  init: string;
  bound: string;
  incl: boolean;
  accesses: { member: any; kind: 'r' | 'w' | 'rw' }[];
}

const NEWLINE = /[\n\r\u2028\u2029]/;

/**
 * BigFoot-style hoisting for innermost counted loops `for (k = a; k < b; k++) body` whose body
 * is straight-line, leaves k alone (no `k++`, `k = …` or own `k`), cannot synchronise (no calls but Math.*, no await/yield), cannot leave
 * early (no break/continue/return) and evaluates every expression unconditionally (no ?:,
 * &&, ||, ?., nested loops or ifs): every access `X[e]` with X and the loop-invariant parts of
 * e unchanged by the body and e affine in k happens exactly once per iteration.
 */
function planLoop(loop: any, source: string): LoopPlan | null {
  let k: string;
  let initExpr: any;
  const init = loop.init;
  if (init?.type === 'VariableDeclaration' && init.kind !== 'const' && init.declarations.length === 1) {
    const d = init.declarations[0];
    if (d.id.type !== 'Identifier' || !d.init) return null;
    k = d.id.name;
    initExpr = d.init;
  } else if (init?.type === 'AssignmentExpression' && init.operator === '=' && init.left.type === 'Identifier') {
    k = init.left.name;
    initExpr = init.right;
  } else return null;
  const test = loop.test;
  if (test?.type !== 'BinaryExpression' || (test.operator !== '<' && test.operator !== '<=')) return null;
  if (test.left.type !== 'Identifier' || test.left.name !== k) return null;
  const up = loop.update;
  const stepOne =
    (up?.type === 'UpdateExpression' && up.operator === '++' && up.argument.type === 'Identifier' && up.argument.name === k) ||
    (up?.type === 'AssignmentExpression' && up.operator === '+=' && up.left.type === 'Identifier' && up.left.name === k &&
      up.right.type === 'Literal' && up.right.value === 1);
  if (!stepOne) return null;
  const stmts = loop.body.type === 'BlockStatement' ? loop.body.body : [loop.body];
  const assigned = new Set<string>([k]);
  let ok = true;
  const members: { member: any; kind: 'r' | 'w' | 'rw' }[] = [];
  const visit = (x: any, role: 'r' | 'w' | 'rw'): void => {
    if (!ok || !x || typeof x.type !== 'string') return;
    switch (x.type) {
      case 'Identifier':
      case 'Literal':
      case 'ThisExpression':
        return;
      case 'BinaryExpression':
        visit(x.left, 'r');
        visit(x.right, 'r');
        return;
      case 'UnaryExpression':
        if (x.operator === 'delete') ok = false;
        else visit(x.argument, 'r');
        return;
      case 'UpdateExpression':
        // The body stepping the index itself (`i++` inside) breaks the one-access-per-step count.
        if (x.argument.type === 'Identifier') {
          if (x.argument.name === k) ok = false;
          assigned.add(x.argument.name);
        } else visit(x.argument, 'rw');
        return;
      case 'AssignmentExpression':
        if (x.operator === '&&=' || x.operator === '||=' || x.operator === '??=' || (x.left.type === 'Identifier' && x.left.name === k)) {
          ok = false;
          return;
        }
        if (x.left.type === 'Identifier') assigned.add(x.left.name);
        else if (x.left.type === 'MemberExpression') visit(x.left, x.operator === '=' ? 'w' : 'rw');
        else {
          ok = false;
          return;
        }
        visit(x.right, 'r');
        return;
      case 'SequenceExpression':
        x.expressions.forEach((e: any) => visit(e, 'r'));
        return;
      case 'ParenthesizedExpression':
        visit(x.expression, role);
        return;
      case 'MemberExpression':
        if (x.optional || x.object.type === 'Super') {
          ok = false;
          return;
        }
        visit(x.object, 'r');
        if (x.computed) {
          visit(x.property, 'r');
          members.push({ member: x, kind: role });
        }
        return;
      case 'CallExpression': {
        const c = x.callee;
        if (!(c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier' && c.object.name === 'Math') || x.optional) {
          ok = false;
          return;
        }
        x.arguments.forEach((a: any) => (a.type === 'SpreadElement' ? (ok = false) : visit(a, 'r')));
        return;
      }
      default:
        ok = false; // conditionals, logical operators, functions, calls, templates, await, yield…
    }
  };
  for (const st of stmts) {
    if (st.type === 'ExpressionStatement') visit(st.expression, 'r');
    else if (st.type === 'VariableDeclaration' && st.kind !== 'var') {
      for (const d of st.declarations) {
        if (d.id.type !== 'Identifier' || d.id.name === k) return null;
        assigned.add(d.id.name);
        if (d.init) visit(d.init, 'r');
      }
    } else if (st.type !== 'EmptyStatement') return null;
    if (!ok) return null;
  }
  visit(test.right, 'r');
  if (!ok) return null;
  const invariant = (e: any): boolean => {
    switch (e.type) {
      case 'Literal':
        return typeof e.value === 'number';
      case 'Identifier':
        return !assigned.has(e.name) && e.name !== 'arguments';
      case 'ThisExpression':
        return true;
      case 'BinaryExpression':
        return ['+', '-', '*', '/', '%', '|', '&', '<<', '>>', '>>>', '^'].includes(e.operator) && invariant(e.left) && invariant(e.right);
      case 'UnaryExpression':
        return (e.operator === '-' || e.operator === '+') && invariant(e.argument);
      case 'MemberExpression':
        return !e.computed && !e.optional && e.property.type === 'Identifier' && e.property.name === 'length' && invariant(e.object);
      default:
        return false;
    }
  };
  const affine = (e: any): boolean => {
    if (e.type === 'Identifier' && e.name === k) return true;
    if (invariant(e)) return true;
    if (e.type === 'BinaryExpression') {
      if (e.operator === '+' || e.operator === '-') return affine(e.left) && affine(e.right);
      if (e.operator === '*') return (invariant(e.left) && affine(e.right)) || (affine(e.left) && invariant(e.right));
    }
    return false;
  };
  if (!invariant(initExpr) || !invariant(test.right)) return null;
  const init0 = source.slice(initExpr.start, initExpr.end);
  const bound = source.slice(test.right.start, test.right.end);
  if (NEWLINE.test(init0) || NEWLINE.test(bound)) return null;
  const accesses = members.filter((m) => {
    const obj = m.member.object;
    const key = m.member.property;
    if (obj.type !== 'Identifier' || assigned.has(obj.name) || obj.name === 'arguments') return false;
    if (key.type === 'Literal' && typeof key.value === 'string') return false;
    return affine(key) && !NEWLINE.test(source.slice(key.start, key.end));
  });
  if (accesses.length === 0) return null;
  return { k, init: `(${init0})`, bound: `(${bound})`, incl: test.operator === '<=', accesses };
}
