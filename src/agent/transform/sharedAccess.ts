/**
 * The shared-access pass: computed member accesses `x[e]` become calls that note the access
 * when x is a view over a SharedArrayBuffer and return the key (`a[i]` → `a[__ppM.r(a,i,7)]`);
 * typed-array range methods and DataView get/set go through `__ppM.tm`; every `Atomics`
 * reference becomes the per-site wrapper `__ppM.A(7,Atomics)`; `new SharedArrayBuffer(n)` is
 * named where it is allocated. Insertions only, except the `.name(` of a routed method call.
 */
import { fullAncestor } from 'acorn-walk';
import { SiteKind } from '../../protocol/events';
import { RANGE_METHODS } from '../shared/methods';
import type { TransformContext } from './types';

// Openings go after the call-counter pass's arrow-body openings (-100) and closings before its
// closings (+100); among ours, outer nodes open first and close last.
const open = (depth: number): number => -99 + depth * 1e-4;
const close = (depth: number): number => 99 - depth * 1e-4;

/** True when evaluating `n` twice is harmless: identifiers, `this`, and non-computed member chains of them. */
function isSimple(n: any): boolean {
  for (;;) {
    if (n.type === 'Identifier') return n.name !== 'arguments';
    if (n.type === 'ThisExpression') return true;
    if (n.type === 'MemberExpression' && !n.computed && n.object.type !== 'Super') {
      n = n.object;
      continue;
    }
    return false;
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
      return parent.left === node ? { role: 'skip' } : { role: 'read' };
    case 'ArrayPattern':
    case 'RestElement':
      return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
    case 'AssignmentPattern':
      if (parent.left !== node) return { role: 'read' };
      return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
    case 'Property':
      if (parent.value === node && ancestors[ancestors.length - 3]?.type === 'ObjectPattern') {
        return inAssignmentPattern(ancestors) ? { role: 'write' } : { role: 'skip' };
      }
      return { role: 'read' };
    default:
      return { role: 'read' };
  }
}

/** A pattern target inside `[…] = v` / `({…} = v)` (not a for-in/of head, not a declaration). */
function inAssignmentPattern(ancestors: any[]): boolean {
  for (let k = ancestors.length - 2; k >= 0; k--) {
    const a = ancestors[k];
    if (a.type === 'ArrayPattern' || a.type === 'ObjectPattern' || a.type === 'Property' || a.type === 'AssignmentPattern' || a.type === 'RestElement') continue;
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
        }
        return;
      case 'CallExpression':
        if (races) rangeCall(node, depth);
        return;
    }
  });

  function member(node: any, parent: any, ancestors: any[], depth: number): void {
    if (!node.computed || node.object.type === 'Super') return;
    const key = node.property;
    if (key.type === 'Literal' && typeof key.value === 'string') return;
    if (key.type === 'TemplateLiteral' && key.expressions.length === 0) return;
    const { role, assign } = roleOf(node, parent, ancestors);
    if (role === 'skip') return;
    const obj = node.object;
    let objText: string;
    if (isSimple(obj)) {
      objText = source.slice(obj.start, obj.end);
      if (/[\n\r\u2028\u2029]/.test(objText)) return;
    } else {
      edits.insert(obj.start, `(${M}.t=`, open(depth));
      edits.insert(obj.end, `)`, close(depth));
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
        // The right side may synchronise (or may not write at all): note the write after it ran.
        fn = 'wk';
        extra = compound ? ',1' : '';
        const s = ctx.addSiteAt(node, kind);
        edits.insert(assign.right.start, `${M}.wv(`, open(depth));
        edits.insert(assign.right.end, `,${s})`, close(depth));
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

  function rangeCall(node: any, depth: number): void {
    const callee = node.callee;
    if (node.optional || callee.type !== 'MemberExpression' || callee.computed || callee.optional) return;
    if (callee.object.type === 'Super' || callee.property.type !== 'Identifier') return;
    const name = callee.property.name;
    if (!RANGE_METHODS.has(name)) return;
    if (callee.object.type === 'Identifier' && (callee.object.name === 'Atomics' || callee.object.name === 'Reflect')) return;
    if (node.arguments.some((a: any) => a.type === 'SpreadElement')) return;
    const first = node.arguments[0];
    const to = first ? first.start : node.end - 1;
    if (!first && source[to] !== ')') return;
    // Only the plain shape `obj.name(`: parentheses or comments in between keep the call as it is.
    const between = source.slice(callee.object.end, to);
    if (!new RegExp(`^[ \\t]*\\.[ \\t]*${name}[ \\t]*\\([ \\t]*$`).test(between)) return;
    const s = ctx.addSiteAt(node, SiteKind.Other);
    edits.insert(callee.object.start, `${M}.tm(${s},`, open(depth));
    edits.replace(callee.object.end, to, `,'${name}'${first ? ',' : ''}`);
  }
}
