/** Lexical scopes and bindings of one file: which declaration each name refers to. */
import { isFunction, type Node } from './ast';

/** One declared name. */
export interface Binding {
  id: number;
  name: string;
  kind: 'var' | 'let' | 'const' | 'param' | 'function' | 'class' | 'enum' | 'import' | 'catch';
  /** The declaring identifier. */
  node: Node;
  /** Initialiser the name was destructured from (declarations), or null. */
  init: Node | null;
  /** Property path from `init` (or from the parameter) to this name, for destructuring. */
  path: string[];
  /** For parameters: the function and the parameter's index. */
  fn: Node | null;
  paramIndex: number;
  /** For function declarations: the function node. */
  decl: Node | null;
  /** TypeScript annotation of the identifier (parameters), or null. */
  type: Node | null;
  /** For imports: module and imported name. */
  importSource: string | null;
  importName: string | null;
  /** Every later assignment `name = expr`. */
  assigned: Node[];
  /** Every other write: `name++`, `name += x`, destructuring or for-in/of targets. */
  updates: Node[];
  /** Number of resolved references (reads and writes), declaration excluded. */
  refCount: number;
}

/** One lexical scope. */
export interface Scope {
  parent: Scope | null;
  /** Declared names; null until the first declaration (most blocks declare nothing). */
  names: Map<string, Binding> | null;
  isFunction: boolean;
}

/** Scopes by the node that opens them, plus all bindings. */
export interface ScopeTable {
  scopes: Map<Node, Scope>;
  bindings: Binding[];
  /** Declaring identifier → binding. */
  declared: Map<Node, Binding>;
  /** Every declared name, so globals (`Atomics`, `Math`) resolve without walking the scope chain. */
  names: Set<string>;
}

/** Declares names as a walk enters nodes (one walk with the fact collection; references resolve after it, so hoisting works). */
export interface ScopeBuilder {
  table: ScopeTable;
  root: Scope;
  enter(node: Node, scope: Scope): Scope;
}

/** Starts the scope table of a Program node. */
export function scopeBuilder(program: Node): ScopeBuilder {
  const table: ScopeTable = { scopes: new Map(), bindings: [], declared: new Map(), names: new Set() };
  const root: Scope = { parent: null, names: new Map(), isFunction: true };
  table.scopes.set(program, root);

  /** Fields a declaration site knows; the binding object is built with one fixed shape (fast property access). */
  interface Decl {
    kind: Binding['kind'];
    init: Node | null;
    fn: Node | null;
    paramIndex: number;
    decl: Node | null;
    type: Node | null;
    importSource: string | null;
    importName: string | null;
  }
  const decl = (kind: Binding['kind'], init: Node | null = null, fn: Node | null = null, paramIndex = -1, declNode: Node | null = null): Decl => ({
    kind, init, fn, paramIndex, decl: declNode, type: null, importSource: null, importName: null,
  });

  const declare = (scope: Scope, id: Node, d: Decl, path: string[], type: Node | null): void => {
    const binding: Binding = {
      id: table.bindings.length, name: String(id.name), kind: d.kind, node: id, init: d.init, path, fn: d.fn, paramIndex: d.paramIndex,
      decl: d.decl, type, importSource: d.importSource, importName: d.importName, assigned: [], updates: [], refCount: 0,
    };
    table.bindings.push(binding);
    table.declared.set(id, binding);
    table.names.add(binding.name);
    // A later declaration of the same name in one scope (var redeclaration) keeps the first.
    const names = (scope.names ??= new Map());
    if (!names.has(binding.name)) names.set(binding.name, binding);
  };

  const noInit = (d: Decl): Decl => (d.init === null ? d : { ...d, init: null });

  const declarePattern = (scope: Scope, pat: Node | null | undefined, d: Decl, path: string[]): void => {
    if (!pat) return;
    switch (pat.type) {
      case 'Identifier':
        declare(scope, pat, d, path, (pat.typeAnnotation as Node | undefined) ?? null);
        return;
      case 'AssignmentPattern':
        declarePattern(scope, pat.left, d, path);
        return;
      case 'RestElement':
        declarePattern(scope, pat.argument, noInit(d), path);
        return;
      case 'ArrayPattern':
        for (const el of (pat.elements as (Node | null)[]) ?? []) declarePattern(scope, el, noInit(d), path);
        return;
      case 'ObjectPattern':
        for (const p of (pat.properties as Node[]) ?? []) {
          if (p.type === 'RestElement') declarePattern(scope, p.argument, noInit(d), path);
          else {
            const key = p.key as Node | undefined;
            const name = !p.computed && key?.type === 'Identifier' ? String(key.name) : key?.type === 'StringLiteral' ? String(key.value) : null;
            declarePattern(scope, p.value, name === null ? noInit(d) : d, name === null ? path : [...path, name]);
          }
        }
        return;
      case 'TSParameterProperty':
        declarePattern(scope, pat.parameter, d, path);
        return;
      default:
        return;
    }
  };

  const nearestFunction = (s: Scope): Scope => {
    let cur = s;
    while (!cur.isFunction && cur.parent) cur = cur.parent;
    return cur;
  };

  /** Declares what `node` introduces and returns the scope its children live in. */
  const enter = (node: Node, scope: Scope): Scope => {
    const known = table.scopes.get(node);
    if (known) return known;
    if (isFunction(node)) {
      if (node.type === 'FunctionDeclaration' && node.id) declare(scope, node.id, decl('function', null, null, -1, node), [], null);
      const fnScope: Scope = { parent: scope, names: new Map(), isFunction: true };
      table.scopes.set(node, fnScope);
      if (node.type === 'FunctionExpression' && node.id) declare(fnScope, node.id, decl('function', null, null, -1, node), [], null);
      const params = (node.params as Node[]) ?? [];
      for (let i = 0; i < params.length; i++) declarePattern(fnScope, params[i], decl('param', null, node, i), []);
      const body = node.body as Node | undefined;
      if (body && body.type === 'BlockStatement') table.scopes.set(body, fnScope);
      return fnScope;
    }
    switch (node.type) {
      case 'BlockStatement':
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement': {
        const inner: Scope = { parent: scope, names: null, isFunction: false };
        table.scopes.set(node, inner);
        return inner;
      }
      case 'StaticBlock': {
        const inner: Scope = { parent: scope, names: new Map(), isFunction: true };
        table.scopes.set(node, inner);
        return inner;
      }
      case 'CatchClause': {
        const inner: Scope = { parent: scope, names: null, isFunction: false };
        table.scopes.set(node, inner);
        declarePattern(inner, node.param, decl('catch'), []);
        return inner;
      }
      case 'VariableDeclaration': {
        const kind = node.kind === 'var' ? 'var' : node.kind === 'let' ? 'let' : 'const';
        const target = kind === 'var' ? nearestFunction(scope) : scope;
        for (const d of (node.declarations as Node[]) ?? []) declarePattern(target, d.id, decl(kind, (d.init as Node | null) ?? null), []);
        return scope;
      }
      case 'ClassDeclaration':
        if (node.id) declare(scope, node.id, decl('class', null, null, -1, node), [], null);
        return scope;
      case 'TSEnumDeclaration':
        if (node.id) declare(scope, node.id, decl('enum', null, null, -1, node), [], null);
        return scope;
      case 'ImportDeclaration': {
        const source = String(node.source?.value ?? '');
        for (const sp of (node.specifiers as Node[]) ?? []) {
          if (!sp.local) continue;
          const imported = sp.type === 'ImportSpecifier' ? (sp.imported?.type === 'Identifier' ? String(sp.imported.name) : String(sp.imported?.value)) : sp.type === 'ImportDefaultSpecifier' ? 'default' : '*';
          declare(nearestFunction(scope), sp.local, { ...decl('import'), importSource: source, importName: imported }, [], null);
        }
        return scope;
      }
      default:
        return scope;
    }
  };

  return { table, root, enter };
}

/** Looks `name` up from `scope` outwards. */
export function lookup(scope: Scope | null, name: string): Binding | null {
  for (let s = scope; s; s = s.parent) {
    const b = s.names?.get(name);
    if (b) return b;
  }
  return null;
}
