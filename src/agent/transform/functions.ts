/**
 * The call-counter pass: `__ppM.c[i]++` at every function body start (after its directive
 * prologue). cProfile's primitive calls for functions that call themselves by name: each
 * self-call site counts into `__ppM.s[i]` (prim = ncalls - self-calls; measured 1.17x on fib
 * against 1.7x for depth tracking); methods that call `this.<their name>(…)` (which may be
 * themselves or an override) use depth tracking
 * (`if(__ppM.d[i]++===0)__ppM.p[i]++;try{…}finally{__ppM.d[i]--}`).
 */
import { fullAncestor } from 'acorn-walk';
import type { Node } from 'acorn';
import { calledAncestor, FUNCTION_TYPES } from './scope';
import type { TransformContext } from './types';

/** A function found in the module, in source order. */
export interface FoundFunction {
  node: any;
  name: string;
  /** Original start offset of the definition (method key for methods). */
  defStart: number;
  /** Offset of what V8 reports as the function position (its parameter list). */
  v8Pos: number;
  recursive: boolean;
  /** Plain calls `f(…)` of this function through its own binding from inside itself. */
  selfCalls: any[];
  /** Counted by depth tracking: it calls `this.<own name>(…)`, which may or may not be itself. */
  depthTracked: boolean;
}

function keyName(key: any, computed: boolean): string {
  if (!key) return '';
  if (!computed && key.type === 'Identifier') return key.name;
  if (key.type === 'PrivateIdentifier') return '#' + key.name;
  if (key.type === 'Literal') return String(key.value);
  return '';
}

/** The name V8 would infer for a function from where it is defined. */
function inferName(fn: any, parent: any, grand: any): string {
  if (fn.id?.name) return fn.id.name;
  if (!parent) return '';
  switch (parent.type) {
    case 'VariableDeclarator':
      return parent.init === fn && parent.id.type === 'Identifier' ? parent.id.name : '';
    case 'AssignmentExpression':
      if (parent.right !== fn) return '';
      if (parent.left.type === 'Identifier') return parent.left.name;
      if (parent.left.type === 'MemberExpression') return keyName(parent.left.property, parent.left.computed);
      return '';
    case 'AssignmentPattern':
      return parent.right === fn && parent.left.type === 'Identifier' ? parent.left.name : '';
    case 'Property':
    case 'PropertyDefinition': {
      const n = keyName(parent.key, parent.computed);
      return parent.kind === 'get' || parent.kind === 'set' ? `${parent.kind} ${n}` : n;
    }
    case 'MethodDefinition': {
      if (parent.kind === 'constructor') return grand?.id?.name ?? '';
      const n = keyName(parent.key, parent.computed);
      return parent.kind === 'get' || parent.kind === 'set' ? `${parent.kind} ${n}` : n;
    }
    default:
      return '';
  }
}

/** Where V8 positions a function: the `(` of its parameter list, or a paren-less arrow's parameter. */
function v8Position(fn: any, source: string): number {
  if (fn.type === 'ArrowFunctionExpression') {
    // V8 positions an async arrow at `async` (measured), others at `(` or the lone parameter.
    const p = fn.start;
    if (fn.async || source[p] === '(') return p;
    return fn.params[0]?.start ?? p;
  }
  const from = fn.id ? fn.id.end : fn.start;
  const to = fn.params[0]?.start ?? fn.body.start;
  const at = source.indexOf('(', from);
  return at >= 0 && at < to ? at : fn.start;
}

/** True when `fn` (child of `parent`) could be what the identifier `name` names: its own name or its variable's. */
function namedAs(fn: any, parent: any, name: string): boolean {
  if (fn.id?.name === name) return true;
  return parent?.type === 'VariableDeclarator' && parent.init === fn && parent.id.type === 'Identifier' && parent.id.name === name;
}

/**
 * Collect the module's functions (source order) with names and direct-recursion flags. A
 * self-call is a plain call `f(…)` whose name resolves to the enclosing function's own binding
 * (`pool.run()` inside `function run` is not one); `this.m(…)` inside a method `m` may be one,
 * so such methods use depth tracking, which is exact either way.
 */
export function findFunctions(ctx: TransformContext): FoundFunction[] {
  const found = new Map<Node, FoundFunction>();
  const selfCallsOf = new Map<Node, any[]>();
  const thisCallers = new Set<Node>();
  fullAncestor(ctx.ast, (node: any, _state, ancestors: any[]) => {
    if (FUNCTION_TYPES.has(node.type)) {
      const parent = ancestors[ancestors.length - 2];
      const grand = ancestors[ancestors.length - 4]; // MethodDefinition → ClassBody → Class
      const isMethod = parent && (parent.type === 'MethodDefinition' || (parent.type === 'Property' && (parent.method || parent.kind !== 'init')));
      found.set(node, {
        node,
        name: inferName(node, parent, grand),
        defStart: isMethod ? parent.start : node.start,
        v8Pos: v8Position(node, ctx.source),
        recursive: false,
        selfCalls: [],
        depthTracked: false,
      });
    } else if (node.type === 'CallExpression') {
      const callee = node.callee;
      if (callee.type === 'Identifier') {
        const name = callee.name;
        let candidate = false;
        for (let i = ancestors.length - 2; i >= 0 && !candidate; i--) {
          if (FUNCTION_TYPES.has(ancestors[i].type)) candidate = namedAs(ancestors[i], ancestors[i - 1], name);
        }
        if (!candidate) return;
        const fn = calledAncestor(name, ancestors);
        if (!fn) return;
        let calls = selfCallsOf.get(fn);
        if (!calls) selfCallsOf.set(fn, (calls = []));
        calls.push(node);
      } else if (callee.type === 'MemberExpression' && callee.object.type === 'ThisExpression' && !callee.computed && callee.property.type === 'Identifier') {
        // `this` is the one of the nearest non-arrow function.
        for (let i = ancestors.length - 2; i >= 0; i--) {
          const a = ancestors[i];
          if (!FUNCTION_TYPES.has(a.type) || a.type === 'ArrowFunctionExpression') continue;
          const f = found.get(a);
          // Ancestors are reported after their children, so compute the name here when missing.
          const name = f ? f.name : inferName(a, ancestors[i - 1], ancestors[i - 3]);
          if (name === callee.property.name) thisCallers.add(a);
          break;
        }
      }
    }
  });
  const list = [...found.values()].sort((a, b) => a.node.start - b.node.start);
  for (const f of list) {
    f.selfCalls = selfCallsOf.get(f.node) ?? [];
    f.depthTracked = thisCallers.has(f.node);
    f.recursive = f.selfCalls.length > 0 || f.depthTracked;
  }
  return list;
}

/** Add the counter edits for `fns` (function i of the list gets counter slot i). */
export function instrumentFunctions(ctx: TransformContext, fns: FoundFunction[]): void {
  const M = ctx.runtimeVar;
  fns.forEach((f, i) => {
    const body = f.node.body;
    const count = `${M}.c[${i}]++`;
    const depth = f.depthTracked;
    if (f.recursive && !depth) {
      for (const call of f.selfCalls) {
        // Around the whole call, so V8 still reports the call at its name; innermost among the
        // wrappers starting there (the shared pass's `(__ppM.t=` around `f(n)[k]` opens
        // before it and closes after it).
        ctx.edits.insert(call.start, `(${M}.s[${i}]++,`, -1);
        ctx.edits.insert(call.end, ')', 1);
      }
    }
    if (body.type !== 'BlockStatement') {
      // An arrow's expression body (arrows have no `this` of their own: never depth-tracked).
      ctx.edits.insert(body.start, `(${count},`, -100);
      ctx.edits.insert(body.end, `)`, 100);
      return;
    }
    let at = body.start + 1;
    let prefix = '';
    for (const stmt of body.body) {
      if (stmt.type !== 'ExpressionStatement' || typeof stmt.directive !== 'string') break;
      at = stmt.end;
      prefix = ';';
    }
    if (depth) {
      ctx.edits.insert(at, `${prefix}${count};if(${M}.d[${i}]++===0)${M}.p[${i}]++;try{`, -100);
      ctx.edits.insert(body.end - 1, `}finally{${M}.d[${i}]--}`, 100);
    } else {
      ctx.edits.insert(at, `${prefix}${count};`, -100);
    }
  });
}
