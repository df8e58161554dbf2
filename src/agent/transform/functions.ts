/**
 * The call-counter pass: `__ppM.c[i]++` at every function body start (after its directive
 * prologue). cProfile's primitive calls for functions that call themselves by name: each
 * self-call site counts into `__ppM.s[i]` (prim = ncalls - self-calls; measured 1.17x on fib
 * against 1.7x for depth tracking); methods that call `this.<their name>(…)` (which may be
 * themselves or an override) use depth tracking
 * (`if(__ppM.d[i]++===0)__ppM.p[i]++;try{…}finally{__ppM.d[i]--}`).
 *
 * A function that can only be called where the module names it (every reference to its binding is
 * the callee of a plain call, not `new` nor `?.()`; nothing exports, reassigns or reads it), at
 * two sites or more, is counted at its call sites instead: each site bumps a slot of its own,
 * `f((__ppM.c[n+j]++,a),…)` (`(__ppM.c[n+j]++,f())` without arguments), and the runtime adds a
 * function's slots up (self-call slots are its recursive calls). A helper called three times in a
 * loop's test then bumps three different words, not one word three times in a chain of stores and
 * loads; on bench/kernels/parse.js that took the counters' cost from about 30% to about 15%
 * (single thread, by hand). A call whose arguments throw is counted.
 */
import { fullAncestor } from 'acorn-walk';
import type { Node } from 'acorn';
import { calledAncestor, FUNCTION_TYPES, resolvedFunction } from './scope';
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
  /** Counted at these call sites (the function is only ever called where named), or null: counted at entry. */
  callSites: CallSite[] | null;
}

/** A call of a function counted at its call sites. */
export interface CallSite {
  node: any;
  /** Inside the function itself: a recursive call (not primitive). */
  self: boolean;
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
  const facts: ModuleFacts = { opaque: false, callee: false, argumentsPassed: false, exported: new Set(), up: new Map() };
  fullAncestor(ctx.ast, (node: any, _state, ancestors: any[]) => {
    noteFacts(node, ancestors[ancestors.length - 2], facts);
    if (FUNCTION_TYPES.has(node.type)) {
      facts.up.set(node, [ancestors[ancestors.length - 2], ancestors[ancestors.length - 3], ancestors[ancestors.length - 4]]);
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
        callSites: null,
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
  findCallSites(ctx, list, facts);
  return list;
}

/** What the call-site count needs to know of the module, gathered in findFunctions' walk. */
interface ModuleFacts {
  /** Something could reach a function without naming it: direct eval, with, arguments.callee, .caller. */
  opaque: boolean;
  /** `.callee` read of something other than `arguments` (opaque only with argumentsPassed). */
  callee: boolean;
  /** `arguments` used as a value (passed on, stored), not only as `arguments[i]`/`arguments.length`. */
  argumentsPassed: boolean;
  /** Names in export lists (`export { f }`). */
  exported: Set<string>;
  /** Each function's parent, grandparent and great-grandparent. */
  up: Map<Node, any[]>;
}

function noteFacts(node: any, parent: any, facts: ModuleFacts): void {
  switch (node.type) {
    case 'WithStatement':
      facts.opaque = true;
      break;
    case 'CallExpression':
      if (node.callee.type === 'Identifier' && node.callee.name === 'eval') facts.opaque = true;
      break;
    case 'MemberExpression': {
      const p = node.property;
      const name = node.computed ? (p.type === 'Literal' ? String(p.value) : '') : p.name;
      // `.caller` hands back the calling function; `.callee` only on an arguments object (a
      // parser's `node.callee` is not one), so only `arguments.callee` or `.callee` in a module
      // that passes `arguments` around.
      if (name === 'caller') facts.opaque = true;
      else if (name === 'callee') {
        if (node.object.type === 'Identifier' && node.object.name === 'arguments') facts.opaque = true;
        else facts.callee = true;
      }
      break;
    }
    case 'Identifier':
      if (node.name === 'arguments' && !(parent?.type === 'MemberExpression' && parent.object === node)) facts.argumentsPassed = true;
      break;
    case 'ExportNamedDeclaration':
      if (!node.source) for (const sp of node.specifiers) if (sp.local.type === 'Identifier') facts.exported.add(sp.local.name);
      break;
  }
}

/** A function declaration directly in a program or function body (an export's declaration is too): not a block's. */
function atScopeTop(fn: any, facts: ModuleFacts): boolean {
  let [parent, grand] = facts.up.get(fn) ?? [];
  if (parent?.type === 'ExportNamedDeclaration' || parent?.type === 'ExportDefaultDeclaration') [parent, grand] = [grand, facts.up.get(fn)?.[2]];
  return parent?.type === 'Program' || (parent?.type === 'BlockStatement' && !!grand && FUNCTION_TYPES.has(grand.type) && grand.body === parent);
}

/**
 * The name a function is bound to, when the call-site count can take it: a function declaration
 * (not a generator: its body starts at the first `next()`) in a program or function body (a
 * sloppy-mode block's declaration is also bound outside the block), or a variable initialised
 * with a function; not exported, not a plain script's global.
 */
function boundName(f: FoundFunction, facts: ModuleFacts, topLevelIsGlobal: boolean): string | null {
  const fn = f.node;
  if (fn.generator) return null;
  const [parent, , great] = facts.up.get(fn) ?? [];
  let name: string;
  let holder: any;
  if (fn.type === 'FunctionDeclaration') {
    if (!fn.id) return null;
    name = fn.id.name;
    holder = parent;
    if (!atScopeTop(fn, facts)) return null;
  } else {
    if (parent?.type !== 'VariableDeclarator' || parent.init !== fn || parent.id.type !== 'Identifier') return null;
    name = parent.id.name;
    holder = great;
  }
  if (holder?.type === 'ExportNamedDeclaration' || holder?.type === 'ExportDefaultDeclaration') return null;
  if (holder?.type === 'Program' && (topLevelIsGlobal || facts.exported.has(name))) return null;
  return name;
}

/**
 * Which functions are counted at their call sites, and where those are: a function declared by
 * name (boundName) whose binding is read nowhere but as the callee of a plain call (not `new`, not `?.()`).
 * Anything that could reach it otherwise (direct eval, with, arguments.callee, .caller, an
 * export list) keeps every function of the module counted at entry.
 */
function findCallSites(ctx: TransformContext, fns: FoundFunction[], facts: ModuleFacts): void {
  if (facts.opaque || (facts.callee && facts.argumentsPassed)) return;
  // Top-level declarations of a plain script (eval code) are properties of the global object.
  const topLevelIsGlobal = !ctx.isModule && !ctx.url.startsWith('file:');
  // In sloppy code a block's function declaration also assigns the function's (or program's)
  // binding of its name when the block runs (Annex B), replacing a function of that name
  // declared there: calls the scope analysis gives to that function may run the block's.
  const blockNames = new Set<string>();
  for (const f of fns) {
    if (f.node.type === 'FunctionDeclaration' && f.node.id && !atScopeTop(f.node, facts)) blockNames.add(f.node.id.name);
  }
  const byNode = new Map<Node, FoundFunction>();
  const names = new Set<string>();
  for (const f of fns) {
    const name = boundName(f, facts, topLevelIsGlobal);
    if (name === null || blockNames.has(name) || (f.node.type === 'FunctionExpression' && f.node.id && blockNames.has(f.node.id.name))) continue;
    f.callSites = [];
    byNode.set(f.node, f);
    names.add(name);
    // `const g = function h(…) { h(…) }`: h names it inside.
    if (f.node.type === 'FunctionExpression' && f.node.id) names.add(f.node.id.name);
  }
  if (byNode.size === 0) return;
  const out = new Set<FoundFunction>();
  fullAncestor(ctx.ast, (node: any, _state, ancestors: any[]) => {
    if (node.type !== 'Identifier' || !names.has(node.name)) return;
    const parent = ancestors[ancestors.length - 2];
    if (parent?.type === 'FunctionExpression' && parent.id === node) return;
    // A declaring name must be the binding its name resolves to there (else a second
    // declaration of the name in one scope: both keep their entry counters).
    const declared = parent?.type === 'FunctionDeclaration' && parent.id === node ? parent : parent?.type === 'VariableDeclarator' && parent.id === node ? parent.init : null;
    if (declared && byNode.has(declared)) {
      const resolved = resolvedFunction(node.name, parent.type === 'FunctionDeclaration' ? ancestors.slice(0, -1) : ancestors);
      if (resolved === declared) return;
      out.add(byNode.get(declared)!);
    }
    const fn = resolvedFunction(node.name, ancestors);
    const f = fn ? byNode.get(fn) : undefined;
    if (!f || out.has(f)) return;
    // Not `new f(…)`: the instance's `constructor` (and `new.target`) is f, callable unnamed;
    // not `f?.(…)`: wrapped, it would count a call it skips and break the chain it ends.
    if (parent?.type === 'CallExpression' && parent.callee === node && !parent.optional) {
      f.callSites!.push({ node: parent, self: ancestors.includes(fn) });
    } else out.add(f);
  });
  for (const f of out) f.callSites = null;
  // A site's counter in a loop of a function V8 compiled on-stack (a long loop in a function
  // called once) costs more than the same counter at the entry of a callee inlined there
  // (0.6 ns a call against 0.3, measured on calls.js): with one call site there are no chains
  // of the same counter to break, so it stays at entry.
  for (const f of byNode.values()) if (f.callSites && f.callSites.length < 2) f.callSites = null;
}

/**
 * Count `call` with `bump` (`__ppM.c[j]++`): around its first argument when it has one, since
 * V8 names the callee in a TypeError's text, which must stay `f(...).x is not a function`, not
 * `((__ppM.c[9]++) , f(...)).x…`; else around the whole call (V8 still reports the call at its
 * name).
 */
function countCall(ctx: TransformContext, call: any, bump: string): void {
  const first = call.arguments[0];
  if (first) {
    // Outermost at the argument's start: the shared pass's wrappers starting there wrap a part
    // of it (`__ppM.v(` around the object of `a.b().map(…)`).
    const arg = first.type === 'SpreadElement' ? first.argument : first;
    ctx.edits.insert(arg.start, `(${bump},`, -1000);
    ctx.edits.insert(arg.end, ')', 1000);
  } else {
    // Innermost among the wrappers starting there (the shared pass's `(__ppM.t=` around
    // `f()[k]` opens before it and closes after it).
    ctx.edits.insert(call.start, `(${bump},`, -1);
    ctx.edits.insert(call.end, ')', 1);
  }
}

/**
 * Add the counter edits for `fns` (function i of the list gets counter slot i). Returns the
 * call-site slots (n + j for entry j): the function index counted there, or its complement
 * (`~i`) for a self-call site.
 */
export function instrumentFunctions(ctx: TransformContext, fns: FoundFunction[]): number[] {
  const M = ctx.runtimeVar;
  const slots: number[] = [];
  fns.forEach((f, i) => {
    if (f.callSites) {
      for (const site of f.callSites) {
        const slot = fns.length + slots.length;
        slots.push(site.self ? ~i : i);
        countCall(ctx, site.node, `${M}.c[${slot}]++`);
      }
      return;
    }
    const body = f.node.body;
    const count = `${M}.c[${i}]++`;
    const depth = f.depthTracked;
    if (f.recursive && !depth) {
      for (const call of f.selfCalls) countCall(ctx, call, `${M}.s[${i}]++`);
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
  return slots;
}
