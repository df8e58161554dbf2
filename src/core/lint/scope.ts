/** Lexical scopes and bindings of one file (pass A): which declaration each name refers to. */
import { forEachChild, isFunction, type Node } from './ast';

/** One declared name. */
export interface Binding {
  id: number;
  name: string;
  kind: 'var' | 'let' | 'const' | 'param' | 'function' | 'class' | 'import' | 'catch';
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
  /** Number of resolved references (reads and writes), declaration excluded. */
  refCount: number;
}

/** One lexical scope. */
export interface Scope {
  parent: Scope | null;
  names: Map<string, Binding>;
  isFunction: boolean;
}

/** Scopes by the node that opens them, plus all bindings. */
export interface ScopeTable {
  scopes: Map<Node, Scope>;
  bindings: Binding[];
  /** Declaring identifier → binding. */
  declared: Map<Node, Binding>;
}

/** Builds the scope table of a Program node. */
export function buildScopes(program: Node): ScopeTable {
  const table: ScopeTable = { scopes: new Map(), bindings: [], declared: new Map() };
  const root: Scope = { parent: null, names: new Map(), isFunction: true };
  table.scopes.set(program, root);

  const declare = (scope: Scope, id: Node, b: Omit<Binding, 'id' | 'name' | 'node' | 'assigned' | 'refCount'>): void => {
    const binding: Binding = { ...b, id: table.bindings.length, name: String(id.name), node: id, assigned: [], refCount: 0 };
    table.bindings.push(binding);
    table.declared.set(id, binding);
    // A later declaration of the same name in one scope (var redeclaration) keeps the first.
    if (!scope.names.has(binding.name)) scope.names.set(binding.name, binding);
  };

  const declarePattern = (scope: Scope, pat: Node | null | undefined, base: Omit<Binding, 'id' | 'name' | 'node' | 'assigned' | 'refCount' | 'path'>, path: string[]): void => {
    if (!pat) return;
    switch (pat.type) {
      case 'Identifier':
        declare(scope, pat, { ...base, path, type: (pat.typeAnnotation as Node | undefined) ?? base.type });
        return;
      case 'AssignmentPattern':
        declarePattern(scope, pat.left, base, path);
        return;
      case 'RestElement':
        declarePattern(scope, pat.argument, { ...base, init: null }, path);
        return;
      case 'ArrayPattern':
        for (const el of (pat.elements as (Node | null)[]) ?? []) declarePattern(scope, el, { ...base, init: null }, path);
        return;
      case 'ObjectPattern':
        for (const p of (pat.properties as Node[]) ?? []) {
          if (p.type === 'RestElement') declarePattern(scope, p.argument, { ...base, init: null }, path);
          else {
            const key = p.key as Node | undefined;
            const name = !p.computed && key?.type === 'Identifier' ? String(key.name) : key?.type === 'StringLiteral' ? String(key.value) : null;
            declarePattern(scope, p.value, name === null ? { ...base, init: null } : base, name === null ? path : [...path, name]);
          }
        }
        return;
      case 'TSParameterProperty':
        declarePattern(scope, pat.parameter, base, path);
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

  const visit = (node: Node, scope: Scope): void => {
    if (isFunction(node)) {
      if (node.type === 'FunctionDeclaration' && node.id) {
        declare(scope, node.id, { kind: 'function', init: null, path: [], fn: null, paramIndex: -1, decl: node, type: null, importSource: null, importName: null });
      }
      const fnScope: Scope = { parent: scope, names: new Map(), isFunction: true };
      table.scopes.set(node, fnScope);
      if (node.type === 'FunctionExpression' && node.id) {
        declare(fnScope, node.id, { kind: 'function', init: null, path: [], fn: null, paramIndex: -1, decl: node, type: null, importSource: null, importName: null });
      }
      const params = (node.params as Node[]) ?? [];
      params.forEach((p, i) => declarePattern(fnScope, p, { kind: 'param', init: null, fn: node, paramIndex: i, decl: null, type: null, importSource: null, importName: null }, []));
      for (const p of params) visit(p, fnScope);
      const body = node.body as Node | undefined;
      if (body) {
        if (body.type === 'BlockStatement') {
          table.scopes.set(body, fnScope);
          for (const s of (body.body as Node[]) ?? []) visit(s, fnScope);
        } else visit(body, fnScope);
      }
      if (node.key && node.computed) visit(node.key, scope);
      return;
    }
    let inner = scope;
    switch (node.type) {
      case 'BlockStatement':
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement':
      case 'SwitchStatement':
        inner = { parent: scope, names: new Map(), isFunction: false };
        table.scopes.set(node, inner);
        break;
      case 'StaticBlock':
        inner = { parent: scope, names: new Map(), isFunction: true };
        table.scopes.set(node, inner);
        break;
      case 'CatchClause':
        inner = { parent: scope, names: new Map(), isFunction: false };
        table.scopes.set(node, inner);
        declarePattern(inner, node.param, { kind: 'catch', init: null, fn: null, paramIndex: -1, decl: null, type: null, importSource: null, importName: null }, []);
        break;
      case 'VariableDeclaration': {
        const kind = node.kind === 'var' ? 'var' : node.kind === 'let' ? 'let' : 'const';
        const target = kind === 'var' ? nearestFunction(scope) : scope;
        for (const d of (node.declarations as Node[]) ?? []) {
          declarePattern(target, d.id, { kind, init: (d.init as Node | null) ?? null, fn: null, paramIndex: -1, decl: null, type: null, importSource: null, importName: null }, []);
        }
        break;
      }
      case 'ClassDeclaration':
        if (node.id) declare(scope, node.id, { kind: 'class', init: null, path: [], fn: null, paramIndex: -1, decl: node, type: null, importSource: null, importName: null });
        break;
      case 'ImportDeclaration': {
        const source = String(node.source?.value ?? '');
        for (const s of (node.specifiers as Node[]) ?? []) {
          if (!s.local) continue;
          const imported = s.type === 'ImportSpecifier' ? (s.imported?.type === 'Identifier' ? String(s.imported.name) : String(s.imported?.value)) : s.type === 'ImportDefaultSpecifier' ? 'default' : '*';
          declare(nearestFunction(scope), s.local, { kind: 'import', init: null, path: [], fn: null, paramIndex: -1, decl: null, type: null, importSource: source, importName: imported });
        }
        return;
      }
      default:
        break;
    }
    forEachChild(node, (c) => visit(c, inner));
  };

  visit(program, root);
  return table;
}

/** Looks `name` up from `scope` outwards. */
export function lookup(scope: Scope | null, name: string): Binding | null {
  for (let s = scope; s; s = s.parent) {
    const b = s.names.get(name);
    if (b) return b;
  }
  return null;
}
