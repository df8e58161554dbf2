/** Small helpers over @babel/parser ESTree-like nodes, typed loosely so the analyser stays fast and total. */
import { VISITOR_KEYS } from './visitorKeys';

/** A babel AST node (loosely typed: the analyser reads fields defensively and never trusts their shape). */
export interface Node {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number; column: number }; end: { line: number; column: number } };
  [key: string]: any;
}

const SKIP_KEYS = new Set([
  'type', 'start', 'end', 'loc', 'range', 'extra', 'errors', 'comments', 'tokens',
  'leadingComments', 'trailingComments', 'innerComments',
  'typeAnnotation', 'returnType', 'typeParameters', 'superTypeParameters', 'typeArguments', 'implements', 'predicate',
]);

/** Node types that hold only types (nothing that runs), so walks skip them. */
const TYPE_ONLY = new Set(['TSInterfaceDeclaration', 'TSTypeAliasDeclaration', 'TSDeclareFunction', 'TSDeclareMethod', 'TSIndexSignature']);

/** Calls `cb` for each child node of `node` with the key it sits under. */
export function forEachChild(node: Node, cb: (child: Node, key: string, parent: Node) => void): void {
  const keys = VISITOR_KEYS[node.type];
  if (keys) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = node[key];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (let j = 0; j < v.length; j++) {
          const c = v[j];
          if (c !== null && typeof c === 'object' && typeof c.type === 'string' && !TYPE_ONLY.has(c.type)) cb(c as Node, key, node);
        }
      } else if (typeof v.type === 'string' && !TYPE_ONLY.has(v.type)) cb(v as Node, key, node);
    }
    return;
  }
  // TypeScript type nodes hold nothing that runs; other unknown (newer) node types get a generic walk.
  if (node.type.startsWith('TS')) return;
  for (const key of Object.keys(node)) {
    if (SKIP_KEYS.has(key)) continue;
    const v = node[key];
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c) && !TYPE_ONLY.has(c.type)) cb(c, key, node);
    } else if (isNode(v) && !TYPE_ONLY.has(v.type)) {
      cb(v, key, node);
    }
  }
}

/** True for objects that look like AST nodes. */
export function isNode(v: unknown): v is Node {
  return v !== null && typeof v === 'object' && typeof (v as Node).type === 'string' && typeof (v as Node).start === 'number';
}

/** True for every kind of function node. */
export function isFunction(n: Node): boolean {
  switch (n.type) {
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ObjectMethod':
    case 'ClassMethod':
    case 'ClassPrivateMethod':
      return true;
    default:
      return false;
  }
}

/** True for loop statements. */
export function isLoop(n: Node): boolean {
  return n.type === 'WhileStatement' || n.type === 'DoWhileStatement' || n.type === 'ForStatement' || n.type === 'ForOfStatement' || n.type === 'ForInStatement';
}

/** Strips parentheses and TypeScript-only wrappers (`as`, `!`, `satisfies`, `<T>x`). */
export function unwrap(n: Node | null | undefined): Node | null {
  let cur = n ?? null;
  while (cur) {
    const t = cur.type;
    if (t === 'TSAsExpression' || t === 'TSNonNullExpression' || t === 'TSSatisfiesExpression' || t === 'TSTypeAssertion' || t === 'ParenthesizedExpression' || t === 'TSInstantiationExpression') {
      cur = cur.expression as Node;
    } else break;
  }
  return cur;
}

/** Name of a non-computed member property (or a string-literal computed one), else null. */
export function propName(m: Node): string | null {
  const p = m.property as Node | undefined;
  if (!p) return null;
  if (!m.computed && (p.type === 'Identifier' || p.type === 'PrivateName')) return p.type === 'PrivateName' ? '#' + String(p.id?.name) : String(p.name);
  if (p.type === 'StringLiteral') return String(p.value);
  return null;
}

/** True for `a.b` / `a?.b` nodes. */
export function isMember(n: Node | null): n is Node {
  return !!n && (n.type === 'MemberExpression' || n.type === 'OptionalMemberExpression');
}

/** True for call nodes (plain and optional). */
export function isCall(n: Node | null): n is Node {
  return !!n && (n.type === 'CallExpression' || n.type === 'OptionalCallExpression');
}

/** True for `Atomics` / `globalThis.Atomics`. */
export function isAtomicsObject(n: Node | null): boolean {
  const u = unwrap(n);
  if (u?.type === 'Identifier') return u.name === 'Atomics';
  const obj = isMember(u) ? unwrap(u.object as Node) : null;
  return obj?.type === 'Identifier' && obj.name === 'globalThis' && propName(u!) === 'Atomics';
}

/** `Atomics.<op>(…)` (or `globalThis.Atomics.<op>(…)`) → op name, else null. */
export function atomicsOp(call: Node): string | null {
  const callee = unwrap(call.callee as Node);
  if (!isMember(callee) || !isAtomicsObject(callee.object as Node)) return null;
  return propName(callee);
}

/** The numeric value of a literal (`3`, `-1`, `3n`), else null. */
export function literalNumber(n: Node | null): number | null {
  const u = unwrap(n);
  if (!u) return null;
  if (u.type === 'NumericLiteral') return Number(u.value);
  if (u.type === 'BigIntLiteral') return Number(u.value);
  if (u.type === 'UnaryExpression' && u.operator === '-') {
    const v = literalNumber(u.argument as Node);
    return v === null ? null : -v;
  }
  return null;
}

/** Source text of a node with runs of whitespace collapsed (a cheap structural key). */
export function keyText(source: string, n: Node | null): string {
  if (!n) return '';
  return source.slice(n.start, n.end).replace(/\s+/g, '');
}

/** Name of a function node: its id, or the variable / property / method it is assigned to. */
export function functionName(fn: Node, parent: Node | null): string | null {
  if (fn.id && fn.id.type === 'Identifier') return String(fn.id.name);
  if ((fn.type === 'ClassMethod' || fn.type === 'ObjectMethod' || fn.type === 'ClassPrivateMethod') && fn.key) {
    if (fn.key.type === 'Identifier') return String(fn.key.name);
    if (fn.key.type === 'PrivateName') return '#' + String(fn.key.id?.name);
  }
  if (!parent) return null;
  if (parent.type === 'VariableDeclarator' && parent.id?.type === 'Identifier') return String(parent.id.name);
  if ((parent.type === 'ObjectProperty' || parent.type === 'ClassProperty') && parent.key?.type === 'Identifier') return String(parent.key.name);
  if (parent.type === 'AssignmentExpression') {
    const l = parent.left as Node;
    if (l.type === 'Identifier') return String(l.name);
    if (isMember(l)) return propName(l);
  }
  return null;
}

/** Typed array constructors, by name. */
export const TYPED_ARRAYS = new Set([
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]);

/** Bytes per element of each typed array. */
export const ELEMENT_BYTES: Record<string, number> = {
  Int8Array: 1, Uint8Array: 1, Uint8ClampedArray: 1, Int16Array: 2, Uint16Array: 2, Float16Array: 2,
  Int32Array: 4, Uint32Array: 4, Float32Array: 4, Float64Array: 8, BigInt64Array: 8, BigUint64Array: 8,
};

/** Typed arrays on which every Atomics operation throws. */
export const NON_ATOMIC_ARRAYS = new Set(['Uint8ClampedArray', 'Float16Array', 'Float32Array', 'Float64Array']);

/** The only typed arrays `Atomics.wait`/`notify` accept. */
export const WAITABLE_ARRAYS = new Set(['Int32Array', 'BigInt64Array']);
