/**
 * The small intra-file dataflow that decides which typed arrays are shared: views over
 * `new SharedArrayBuffer`, over `workerData` / message payloads, over TypeScript parameters typed
 * as shared, followed through assignments, destructuring, returns and call arguments.
 */
import { isFunction, isMember, propName, TYPED_ARRAYS, unwrap, type Node } from './ast';
import { memberKey, type FileModel } from './model';
import type { Binding } from './scope';

/** Abstract value of an expression. */
export type Val =
  | { k: 'sab' }
  | { k: 'ab' }
  | { k: 'payload' }
  | { k: 'wt' }
  | { k: 'array' }
  | { k: 'dataview' }
  | { k: 'ta'; type: string; shared: 'yes' | 'no' | 'unknown' }
  | { k: 'obj'; node: Node }
  | { k: 'fn'; node: Node };

const PAYLOAD_CALLS = new Set(['getEnvironmentData', 'receiveMessageOnPort', 'structuredClone']);
const rank = (v: Val | null): number => (!v ? 0 : v.k === 'ta' ? (v.shared === 'yes' ? 5 : v.shared === 'no' ? 4 : 3) : v.k === 'sab' ? 5 : v.k === 'payload' ? 2 : 1);

/** Evaluates expressions and bindings of one file to abstract values (memoised, cycle-safe). */
export class ValueAnalysis {
  private readonly memo = new Map<Binding, Val | null>();
  private readonly busy = new Set<Binding>();
  private readonly memberBusy = new Set<string>();
  /** Call sites by callee binding, built once. */
  private readonly callsByBinding = new Map<Binding, Node[]>();
  /** Functions by the node, to find call sites of function expressions bound to names. */
  private readonly bindingOfFn = new Map<Node, Binding>();
  /** `new C(…)` sites by constructor (the class's `constructor` method). */
  private readonly newsByCtor = new Map<Node, Node[]>();

  constructor(private readonly m: FileModel) {
    for (const c of m.calls) {
      if (!c.binding) continue;
      const list = this.callsByBinding.get(c.binding);
      if (list) list.push(c.node);
      else this.callsByBinding.set(c.binding, [c.node]);
    }
    const classOf = new Map<Binding, Node>();
    for (const b of m.scopes.bindings) {
      if (b.decl && isFunction(b.decl)) this.bindingOfFn.set(b.decl, b);
      const init = unwrap(b.init);
      if (init && isFunction(init) && b.path.length === 0) this.bindingOfFn.set(init, b);
      const cls = b.kind === 'class' ? b.decl : init?.type === 'ClassExpression' && b.path.length === 0 ? init : null;
      if (cls) classOf.set(b, cls);
    }
    for (const n of m.news) {
      const cls = n.binding && classOf.get(n.binding);
      const ctor = cls && m.ctorOf.get(cls);
      if (!ctor) continue;
      const list = this.newsByCtor.get(ctor);
      if (list) list.push(n.node);
      else this.newsByCtor.set(ctor, [n.node]);
    }
  }

  /** The abstract value of an expression, or null when unknown. */
  of(expr: Node | null | undefined, depth = 0): Val | null {
    const e = unwrap(expr);
    if (!e || depth > 12) return null;
    switch (e.type) {
      case 'Identifier': {
        // A declaring identifier stands for its own binding (a constructor's parameter property).
        const b = this.m.refs.get(e) ?? this.m.scopes.declared.get(e);
        if (b) return this.ofBinding(b);
        if (e.name === 'workerData') return { k: 'payload' };
        return null;
      }
      case 'NewExpression':
        return this.ofNew(e, depth);
      case 'MemberExpression':
      case 'OptionalMemberExpression': {
        const name = propName(e);
        const obj = this.of(e.object as Node, depth + 1);
        if (obj?.k === 'wt') return name === 'workerData' ? { k: 'payload' } : null;
        if (obj?.k === 'payload') return e.computed && !name ? { k: 'payload' } : { k: 'payload' };
        if (obj?.k === 'ta' && name === 'buffer') return obj.shared === 'yes' ? { k: 'sab' } : obj.shared === 'no' ? { k: 'ab' } : null;
        if (obj?.k === 'obj' && name) return this.of(objectProp(obj.node, name), depth + 1);
        if (!e.computed) return this.ofMember(e, depth);
        return null;
      }
      case 'CallExpression':
      case 'OptionalCallExpression':
        return this.ofCall(e, depth);
      case 'ArrayExpression':
        return { k: 'array' };
      case 'ObjectExpression':
        return { k: 'obj', node: e };
      case 'ConditionalExpression': {
        const a = this.of(e.consequent as Node, depth + 1);
        const b = this.of(e.alternate as Node, depth + 1);
        return rank(a) >= rank(b) ? a : b;
      }
      case 'LogicalExpression': {
        const a = this.of(e.left as Node, depth + 1);
        const b = this.of(e.right as Node, depth + 1);
        return rank(a) >= rank(b) ? a : b;
      }
      case 'AssignmentExpression':
        return e.operator === '=' ? this.of(e.right as Node, depth + 1) : null;
      case 'AwaitExpression':
        return this.of(e.argument as Node, depth + 1);
      case 'SequenceExpression': {
        const list = (e.expressions as Node[]) ?? [];
        return this.of(list[list.length - 1], depth + 1);
      }
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        return { k: 'fn', node: e };
      default:
        return null;
    }
  }

  /** The abstract value a binding holds (joined over its initialiser, assignments and incoming arguments). */
  ofBinding(b: Binding): Val | null {
    if (this.memo.has(b)) return this.memo.get(b) ?? null;
    if (this.busy.has(b)) return null;
    this.busy.add(b);
    let best: Val | null = null;
    const consider = (v: Val | null): void => {
      if (rank(v) > rank(best)) best = v;
    };
    if (b.kind === 'import') {
      if (b.importSource === 'worker_threads' || b.importSource === 'node:worker_threads') {
        consider(b.importName === 'workerData' ? { k: 'payload' } : b.importName === '*' || b.importName === 'default' ? { k: 'wt' } : null);
      }
    } else if (b.kind === 'function') {
      if (b.decl) consider({ k: 'fn', node: b.decl });
    } else if (b.kind === 'param') {
      consider(fromType(b.type));
      const fn = b.fn;
      if (fn) {
        if (this.m.messageHandlers.has(fn) && b.paramIndex === 0) consider({ k: 'payload' });
        const fb = this.bindingOfFn.get(fn);
        for (const call of (fb && this.callsByBinding.get(fb)) ?? this.newsByCtor.get(fn) ?? []) {
          const arg = ((call.arguments as Node[]) ?? [])[b.paramIndex];
          if (arg && arg.type !== 'SpreadElement') consider(this.path(this.of(arg, 1), b.path));
        }
      }
    } else if (b.init) {
      consider(this.path(this.of(b.init, 1), b.path));
    }
    if (!b.init && b.kind !== 'param') consider(fromType(b.type));
    for (const a of b.assigned) consider(this.of(a, 1));
    this.busy.delete(b);
    this.memo.set(b, best);
    return best;
  }

  private path(v: Val | null, path: string[]): Val | null {
    let cur = v;
    for (const p of path) {
      if (!cur) return null;
      if (cur.k === 'payload') continue;
      if (cur.k === 'wt') cur = p === 'workerData' ? { k: 'payload' } : null;
      else if (cur.k === 'obj') cur = this.of(objectProp(cur.node, p), 1);
      else return null;
    }
    return cur;
  }

  private ofNew(e: Node, depth: number): Val | null {
    const callee = unwrap(e.callee as Node);
    const name = callee?.type === 'Identifier' ? String(callee.name) : isMember(callee) ? propName(callee) : null;
    const args = (e.arguments as Node[]) ?? [];
    if (name === 'SharedArrayBuffer') return { k: 'sab' };
    if (name === 'ArrayBuffer') return { k: 'ab' };
    if (name === 'DataView') return { k: 'dataview' };
    if (name === 'Array') return { k: 'array' };
    if (name && TYPED_ARRAYS.has(name)) {
      const first = args[0];
      if (!first) return { k: 'ta', type: name, shared: 'no' };
      const v = this.of(first, depth + 1);
      if (v?.k === 'sab' || v?.k === 'payload') return { k: 'ta', type: name, shared: 'yes' };
      if (v && v.k !== 'fn') return { k: 'ta', type: name, shared: 'no' };
      const u = unwrap(first);
      if (u && (u.type === 'NumericLiteral' || u.type === 'BinaryExpression' || u.type === 'ArrayExpression')) return { k: 'ta', type: name, shared: 'no' };
      return { k: 'ta', type: name, shared: 'unknown' };
    }
    return null;
  }

  private ofCall(e: Node, depth: number): Val | null {
    const callee = unwrap(e.callee as Node);
    if (callee?.type === 'Identifier') {
      if (callee.name === 'require') {
        const a = unwrap(((e.arguments as Node[]) ?? [])[0]);
        const src = a?.type === 'StringLiteral' ? String(a.value) : '';
        return src === 'worker_threads' || src === 'node:worker_threads' ? { k: 'wt' } : null;
      }
      if (PAYLOAD_CALLS.has(String(callee.name))) return { k: 'payload' };
      const f = this.of(callee, depth + 1);
      if (f?.k === 'fn') return this.ofReturns(f.node, depth);
      return null;
    }
    if (isMember(callee)) {
      const name = propName(callee);
      if (name && PAYLOAD_CALLS.has(name)) return { k: 'payload' };
      const obj = this.of(callee.object as Node, depth + 1);
      if (obj?.k === 'ta' && (name === 'subarray')) return obj;
      if (obj?.k === 'ta' && (name === 'slice' || name === 'map' || name === 'filter')) return { k: 'ta', type: obj.type, shared: 'no' };
      const cobj = unwrap(callee.object as Node);
      if (cobj?.type === 'Identifier' && TYPED_ARRAYS.has(String(cobj.name)) && (name === 'from' || name === 'of')) return { k: 'ta', type: String(cobj.name), shared: 'no' };
    }
    return null;
  }

  private ofReturns(fn: Node, depth: number): Val | null {
    let best: Val | null = null;
    for (const r of this.m.fns.get(fn)?.returns ?? []) {
      const v = this.of(r, depth + 1);
      if (rank(v) > rank(best)) best = v;
    }
    return best;
  }

  private ofMember(e: Node, depth: number): Val | null {
    const key = memberKey(this.m, e);
    const assigned = this.m.memberAssigned.get(key);
    if (!assigned || this.memberBusy.has(key)) return null;
    this.memberBusy.add(key);
    let best: Val | null = null;
    for (const a of assigned) {
      const v = this.of(a, depth + 1);
      if (rank(v) > rank(best)) best = v;
    }
    this.memberBusy.delete(key);
    return best;
  }
}

function objectProp(obj: Node, name: string): Node | null {
  for (const p of (obj.properties as Node[]) ?? []) {
    if (p.type !== 'ObjectProperty' || p.computed) continue;
    const k = p.key as Node;
    if ((k.type === 'Identifier' && k.name === name) || (k.type === 'StringLiteral' && k.value === name)) return p.value as Node;
  }
  return null;
}

/** Value implied by a TypeScript annotation: `SharedArrayBuffer`, `Int32Array`, `Int32Array<SharedArrayBuffer>`. */
export function fromType(annotation: Node | null): Val | null {
  const t = annotation?.type === 'TSTypeAnnotation' ? (annotation.typeAnnotation as Node) : annotation;
  if (!t || t.type !== 'TSTypeReference' || t.typeName?.type !== 'Identifier') return null;
  const name = String(t.typeName.name);
  if (name === 'SharedArrayBuffer') return { k: 'sab' };
  if (name === 'ArrayBuffer') return { k: 'ab' };
  if (!TYPED_ARRAYS.has(name)) return null;
  const params = ((t.typeParameters ?? t.typeArguments)?.params as Node[] | undefined) ?? [];
  const p0 = params[0];
  const arg = p0?.type === 'TSTypeReference' && p0.typeName?.type === 'Identifier' ? String(p0.typeName.name) : null;
  return { k: 'ta', type: name, shared: arg === 'SharedArrayBuffer' ? 'yes' : arg === 'ArrayBuffer' ? 'no' : 'unknown' };
}
