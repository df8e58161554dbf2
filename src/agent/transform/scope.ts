/**
 * Just enough scope analysis to tell which function a plain call `name(…)` calls: the
 * declaration the identifier resolves to, found by walking the call's ancestors outwards.
 * Declarations of a scope are collected once, on first need (most calls never need one).
 */

/** Node types that are functions. */
export const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** The names a scope declares, each with its declaring node (a function, a declarator, a class, an import, or BINDING). */
type Declared = Map<string, any>;

const cache = new WeakMap<object, Declared>();
/** The declaring node of parameters and catch bindings (never a function). */
const BINDING = { type: 'Binding' };

/** Names bound by a binding pattern. */
function patternNames(p: any, out: string[]): string[] {
  if (!p) return out;
  switch (p.type) {
    case 'Identifier':
      out.push(p.name);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const e of p.elements) patternNames(e, out);
      break;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      break;
    case 'RestElement':
      patternNames(p.argument, out);
      break;
  }
  return out;
}

function declareVariables(decl: any, into: Declared): void {
  for (const d of decl.declarations) for (const n of patternNames(d.id, [])) if (!into.has(n)) into.set(n, d);
}

/** `var` declarations anywhere under `node`, not inside nested functions or classes. */
function hoistedVars(node: any, into: Declared): void {
  if (!node || typeof node.type !== 'string') return;
  if (FUNCTION_TYPES.has(node.type) || node.type === 'ClassDeclaration' || node.type === 'ClassExpression') return;
  if (node.type === 'VariableDeclaration' && node.kind === 'var') declareVariables(node, into);
  for (const key of Object.keys(node)) {
    if (key === 'loc') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const x of v) hoistedVars(x, into);
    else if (v && typeof v.type === 'string') hoistedVars(v, into);
  }
}

/** Declarations made directly in a statement list (let/const/class/function, imports). */
function listDeclarations(list: any[], into: Declared): void {
  for (const s of list) {
    if (!s) continue;
    if (s.type === 'VariableDeclaration' && s.kind !== 'var') declareVariables(s, into);
    else if ((s.type === 'FunctionDeclaration' || s.type === 'ClassDeclaration') && s.id) into.set(s.id.name, s);
    else if (s.type === 'ImportDeclaration') for (const sp of s.specifiers) into.set(sp.local.name, s);
    else if ((s.type === 'ExportNamedDeclaration' || s.type === 'ExportDefaultDeclaration') && s.declaration) listDeclarations([s.declaration], into);
  }
}

/** The names `scope` declares (null when the node is no scope). Function bodies belong to their function. */
function declaredIn(scope: any): Declared | null {
  const have = cache.get(scope);
  if (have) return have;
  const d: Declared = new Map();
  switch (scope.type) {
    case 'Program':
      listDeclarations(scope.body, d);
      hoistedVars(scope, d);
      break;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      for (const p of scope.params) for (const n of patternNames(p, [])) d.set(n, BINDING);
      if (scope.body.type === 'BlockStatement') {
        listDeclarations(scope.body.body, d);
        for (const s of scope.body.body) hoistedVars(s, d);
      }
      break;
    case 'StaticBlock':
      listDeclarations(scope.body, d);
      for (const s of scope.body) hoistedVars(s, d);
      break;
    case 'BlockStatement':
      listDeclarations(scope.body, d);
      break;
    case 'SwitchStatement':
      for (const c of scope.cases) listDeclarations(c.consequent, d);
      break;
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement': {
      const head = scope.type === 'ForStatement' ? scope.init : scope.left;
      if (head?.type === 'VariableDeclaration' && head.kind !== 'var') declareVariables(head, d);
      break;
    }
    case 'CatchClause':
      for (const n of patternNames(scope.param, [])) d.set(n, BINDING);
      break;
    default:
      return null;
  }
  cache.set(scope, d);
  return d;
}

/** The function itself when `decl` declares one (a function declaration, or `const f = () => …`). */
function declaredFunction(decl: any): any {
  if (!decl) return null;
  if (decl.type === 'FunctionDeclaration') return decl;
  if (decl.type === 'VariableDeclarator' && decl.id.type === 'Identifier') {
    let init = decl.init;
    while (init?.type === 'ParenthesizedExpression') init = init.expression;
    if (init && (init.type === 'FunctionExpression' || init.type === 'ArrowFunctionExpression')) return init;
  }
  return null;
}

/**
 * The function the identifier `name` names where it stands (`ancestors`: outermost first, the
 * node itself last): a function declaration, a `const`/`let`/`var` initialised with a function,
 * or a named function expression's own name; null when it resolves to anything else (another
 * binding, a global, a parameter that shadows it…).
 */
export function resolvedFunction(name: string, ancestors: readonly any[]): any {
  for (let k = ancestors.length - 2; k >= 0; k--) {
    const a = ancestors[k];
    // A function's body block is part of the function's scope.
    if (a.type === 'BlockStatement' && k > 0 && FUNCTION_TYPES.has(ancestors[k - 1].type) && ancestors[k - 1].body === a) continue;
    if ((a.type === 'ClassExpression' || a.type === 'ClassDeclaration') && a.id?.name === name) return null;
    if (FUNCTION_TYPES.has(a.type) && ancestors[k + 1] !== a.body) {
      // In the parameter list: defaults see the parameters and the scopes outside, not the
      // body's declarations (`function h(a = g()) { function g() {} }` calls the outer g).
      if (a.params.some((p: any) => patternNames(p, []).includes(name))) return null;
      if (a.type === 'FunctionExpression' && a.id?.name === name) return a;
      continue;
    }
    const d = declaredIn(a);
    if (d === null) continue;
    const decl = d.get(name);
    if (decl !== undefined) return declaredFunction(decl);
    // A named function expression binds its own name inside itself.
    if (a.type === 'FunctionExpression' && a.id?.name === name) return a;
  }
  return null;
}

/**
 * The function among `ancestors` (outermost first, the call last) that the plain call
 * `name(…)` calls, or null when the name resolves to anything else.
 */
export function calledAncestor(name: string, ancestors: readonly any[]): any {
  const fn = resolvedFunction(name, ancestors);
  return fn && ancestors.includes(fn) ? fn : null;
}
