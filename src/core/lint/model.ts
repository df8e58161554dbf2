/** One walk over a file: declares scopes, resolves names, and collects the facts the rules read (Atomics calls, element accesses, calls, loops). */
import { atomicsOp, forEachChild, isAtomicsObject, functionName, isCall, isFunction, isLoop, isMember, literalNumber, propName, unwrap, type Node } from './ast';
import { scopeBuilder, lookup, type Binding, type Scope, type ScopeTable } from './scope';

/** Which thread a piece of code evidently runs on, from `isMainThread` branches; null when unknown. */
export type ThreadSide = 'main' | 'worker' | null;

/** Where a fact sits: enclosing functions (innermost last), loops in the innermost function, ancestors. */
export interface Site {
  node: Node;
  fns: Node[];
  loops: Node[];
  ancestors: Node[];
  side: ThreadSide;
}

/** `Atomics.op(array, index, …)`. */
export interface AtomicsCall extends Site {
  op: string;
  args: Node[];
  array: Node | null;
  index: Node | null;
}

/** `array[index]` used as a plain read, write or read-modify-write. */
export interface ElementAccess extends Site {
  kind: 'read' | 'write' | 'rmw';
  /** The node that performs the access: the member itself, or its update/assignment expression. */
  op: Node;
  array: Node;
  index: Node;
}

/** A call of something other than Atomics. */
export interface CallSite extends Site {
  /** Callee identifier or member property name. */
  name: string | null;
  /** Binding of an identifier callee. */
  binding: Binding | null;
}

/** One function in the file. */
export interface FnInfo {
  node: Node;
  name: string | null;
  returns: Node[];
  parent: Node | null;
}

/** Everything pass B learned about one file. Its lists are in source order (the walk is pre-order), which range lookups rely on. */
export interface FileModel {
  source: string;
  program: Node;
  scopes: ScopeTable;
  refs: Map<Node, Binding>;
  atomics: AtomicsCall[];
  accesses: ElementAccess[];
  calls: CallSite[];
  fns: Map<Node, FnInfo>;
  /** Functions registered as 'message' handlers (their first parameter is a payload). */
  messageHandlers: Set<Node>;
  /** Functions run after another thread finished or answered ('exit'/'error'/'message' listeners, `.then`). */
  joinCallbacks: Set<Node>;
  /** Functions run after another thread exited (`worker.on('exit')`): joined, whichever thread runs them. */
  exitCallbacks: Set<Node>;
  /** `this.x = v` / `obj.x = v` assignments by member text. */
  memberAssigned: Map<string, Node[]>;
  /** `new Worker(…)` sites. */
  workerSpawns: Node[];
  /** The innermost function (or the program) each `new Worker(…)` sits in. */
  spawnOwners: Map<Node, Node>;
  checksMainThread: boolean;
  /** The file reads `workerData` / `parentPort` of worker_threads: some of it runs in a worker. */
  usesWorkerApi: boolean;
  /** Offsets of `await` expressions by enclosing function (the program for top level). */
  awaits: Map<Node, number[]>;
  /** `return` / `throw` statements by enclosing function (the program for top level). */
  exits: Map<Node, Node[]>;
  /** The class each `this` sits in (so `this.view` of two classes are two arrays). */
  thisClass: Map<Node, Node>;
  /** Constructors by their class. */
  ctorOf: Map<Node, Node>;
  /** `new C(…)` of an identifier callee, with C's binding once resolved. */
  news: { node: Node; binding: Binding | null }[];
  /** `for (let i = …; …; …)` loops that declare their counter. */
  forLoops: Node[];
  /** Every loop with the function (or program) it sits in. */
  allLoops: { node: Node; owner: Node }[];
  /** `break` / `continue` statements with the statement they leave, by enclosing function (the program for top level). */
  jumps: Map<Node, { node: Node; target: Node }[]>;
  /** `try … finally` statements, each with the index of the nearest one around it (-1 for none). */
  finallyTries: { node: Node; outer: number }[];
}

const NONE: Node[] = [];
const LISTEN = new Set(['on', 'once', 'addListener', 'addEventListener', 'prependListener', 'prependOnceListener']);

/** Builds the file model of a parsed Program. */
export function buildModel(source: string, program: Node): FileModel {
  const builder = scopeBuilder(program);
  const scopes = builder.table;
  /** References resolve after the walk, once every (hoisted) declaration is known. */
  const pendingRefs: { id: Node; scope: Scope | null }[] = [];
  const pendingCalls: { call: CallSite; id: Node }[] = [];
  const pendingAssign: { id: Node; right: Node }[] = [];
  /**
   * Calls that may go through a name bound to Atomics (`const A = Atomics; A.wait(…)`,
   * `const { wait } = Atomics; wait(…)`), confirmed once references resolve. Only looked for when
   * the text assigns Atomics to something, so other files pay nothing.
   */
  const aliasCalls = ATOMICS_ALIAS.test(source) ? ([] as { site: Site; id: Node; prop: string | null }[]) : null;
  const m: FileModel = {
    source, program, scopes, refs: new Map(), atomics: [], accesses: [], calls: [], fns: new Map(),
    messageHandlers: new Set(), joinCallbacks: new Set(), exitCallbacks: new Set(), memberAssigned: new Map(), workerSpawns: [], spawnOwners: new Map(),
    checksMainThread: false, usesWorkerApi: false, awaits: new Map(), exits: new Map(), thisClass: new Map(), ctorOf: new Map(), news: [], forLoops: [], allLoops: [], jumps: new Map(), finallyTries: [],
  };
  const classes: Node[] = [];
  const addMember = (key: string, value: Node): void => {
    const list = m.memberAssigned.get(key);
    if (list) list.push(value);
    else m.memberAssigned.set(key, [value]);
  };
  /** Local names of `isMainThread` (`import { isMainThread as onMain }`, `const { isMainThread: main } = …`). */
  const mainAliases = new Set<string>();
  const pendingNews: { entry: { node: Node; binding: Binding | null }; id: Node }[] = [];
  const pendingUpdates: { id: Node; node: Node }[] = [];
  const workerApiRefs: Node[] = [];
  const ancestors: Node[] = [];
  const fns: Node[] = [];
  let loops: Node[] = [];
  const sides: ThreadSide[] = [];
  /** Indices into m.finallyTries of the `try … finally` statements being walked. */
  const tries: number[] = [];
  let scope: Scope | null = null;

  // Copies of the function/loop stacks are shared until the stacks change (most sites sit in the same few),
  // and ancestors are kept from the innermost function down: the rules only look that far.
  let fnsCopy: Node[] | null = null;
  let loopsCopy: Node[] | null = null;
  let fnDepth = 0;
  const fnsNow = (): Node[] => (fnsCopy ??= fns.slice());
  const site = (node: Node): Site => ({
    node, fns: fnsNow(), loops: (loopsCopy ??= loops.slice()), ancestors: ancestors.slice(fnDepth), side: sides.length ? (sides[sides.length - 1] ?? null) : null,
  });

  const isReference = (id: Node, parent: Node | null, key: string): boolean => {
    if (!parent) return true;
    if (scopes.declared.has(id)) return false;
    switch (parent.type) {
      case 'MemberExpression':
      case 'OptionalMemberExpression':
        return key !== 'property' || !!parent.computed;
      case 'ObjectProperty':
      case 'ClassProperty':
      case 'ClassAccessorProperty':
      case 'ObjectMethod':
      case 'ClassMethod':
        return key !== 'key' || !!parent.computed;
      case 'LabeledStatement':
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'MetaProperty':
        return false;
      case 'ExportSpecifier':
        return key === 'local';
      default:
        return true;
    }
  };

  const sideOfTest = (test: Node | null): ThreadSide => {
    const t = unwrap(test);
    if (!t) return null;
    if (t.type === 'Identifier' && (t.name === 'isMainThread' || mainAliases.has(String(t.name)))) return 'main';
    // `if (workerData)` / `if (parentPort)` only hold inside a worker.
    if (t.type === 'Identifier' && (t.name === 'workerData' || t.name === 'parentPort')) return 'worker';
    if (isMember(t) && propName(t) === 'isMainThread') return 'main';
    // `threadId === 0`, `parentPort === null` (`== null`, `!== null`, …) tell the threads apart as well.
    if (t.type === 'BinaryExpression' && /^[!=]==?$/.test(String(t.operator))) {
      const l = unwrap(t.left as Node);
      const r = unwrap(t.right as Node);
      const eq = t.operator === '===' || t.operator === '==';
      const test = sideOfComparison(l, r) ?? sideOfComparison(r, l);
      return !test ? null : eq ? test : test === 'main' ? 'worker' : 'main';
    }
    if (t.type === 'UnaryExpression' && t.operator === '!') {
      const inner = sideOfTest(t.argument as Node);
      return inner === 'main' ? 'worker' : inner === 'worker' ? 'main' : null;
    }
    return null;
  };

  /** `threadId === 0` / `parentPort === null`: the side on which `x === value` holds. */
  const sideOfComparison = (x: Node | null, value: Node | null): ThreadSide => {
    const name = x?.type === 'Identifier' ? String(x.name) : isMember(x) ? propName(x) : null;
    if (name === 'threadId') return literalNumber(value) === 0 ? 'main' : null;
    if (name !== 'parentPort') return null;
    const nothing = value?.type === 'NullLiteral' || (value?.type === 'Identifier' && value.name === 'undefined');
    return nothing ? 'main' : null;
  };

  const classifyAccess = (mem: Node, parent: Node | null, key: string): ElementAccess['kind'] | null => {
    if (!parent) return 'read';
    switch (parent.type) {
      case 'UpdateExpression':
        return 'rmw';
      case 'AssignmentExpression':
        if (key !== 'left') return 'read';
        return parent.operator === '=' ? 'write' : 'rmw';
      case 'CallExpression':
      case 'OptionalCallExpression':
        return key === 'callee' ? null : 'read';
      case 'ArrayPattern':
      case 'ObjectProperty':
      case 'RestElement':
      case 'AssignmentPattern':
        return parent.type === 'ObjectProperty' && key !== 'value' ? 'read' : isPatternContext() ? 'write' : 'read';
      case 'ForOfStatement':
      case 'ForInStatement':
        return key === 'left' ? 'write' : 'read';
      case 'UnaryExpression':
        return parent.operator === 'delete' ? null : 'read';
      default:
        return 'read';
    }
    function isPatternContext(): boolean {
      for (let i = ancestors.length - 1; i >= 0; i--) {
        const a = ancestors[i]!;
        if (a.type === 'ArrayPattern' || a.type === 'ObjectPattern') return true;
        if (a.type !== 'ObjectProperty' && a.type !== 'AssignmentPattern' && a.type !== 'RestElement') return false;
      }
      return false;
    }
  };

  const onCall = (node: Node): void => {
    const op = atomicsOp(node);
    const args = (node.arguments as Node[]) ?? [];
    if (op) {
      const st = site(node);
      m.atomics.push({ node, fns: st.fns, loops: st.loops, ancestors: st.ancestors, side: st.side, op, args, array: unwrap(args[0]) ?? null, index: unwrap(args[1]) ?? null });
      return;
    }
    const callee = unwrap(node.callee as Node);
    if (aliasCalls && callee) {
      const obj = isMember(callee) ? unwrap(callee.object as Node) : null;
      if (callee.type === 'Identifier') aliasCalls.push({ site: site(node), id: callee, prop: null });
      else if (obj?.type === 'Identifier' && propName(callee)) aliasCalls.push({ site: site(node), id: obj, prop: propName(callee) });
    }
    let name: string | null = null;
    const binding: Binding | null = null;
    const deferred = callee?.type === 'Identifier';
    if (callee?.type === 'Identifier') {
      name = String(callee.name);
    } else if (isMember(callee)) {
      name = propName(callee);
      const ev = unwrap(args[0]);
      const fn = unwrap(args[1]);
      if (name && LISTEN.has(name) && ev?.type === 'StringLiteral' && fn && isFunction(fn)) {
        if (ev.value === 'message') {
          m.messageHandlers.add(fn);
          m.joinCallbacks.add(fn);
        } else if (ev.value === 'exit' || ev.value === 'error') {
          m.joinCallbacks.add(fn);
          const recv = unwrap(callee.object as Node);
          if (ev.value === 'exit' && !(recv?.type === 'Identifier' && recv.name === 'process')) m.exitCallbacks.add(fn);
        }
      }
      if ((name === 'then' || name === 'finally') && ev && isFunction(ev)) m.joinCallbacks.add(ev);
    }
    // Calls only need their functions and thread side; skipping the other copies keeps big files cheap.
    const call: CallSite = { node, fns: fnsNow(), loops: NONE, ancestors: NONE, side: sides.length ? (sides[sides.length - 1] ?? null) : null, name, binding };
    m.calls.push(call);
    if (deferred) pendingCalls.push({ call, id: callee });
  };

  const visit = (node: Node, key: string, parent: Node | null): void => {
    const savedScope = scope;
    scope = builder.enter(node, scope ?? builder.root);
    const fnNode = isFunction(node);
    const savedLoops = loops;
    const savedDepth = fnDepth;
    if (fnNode) {
      fnsCopy = null;
      loopsCopy = null;
      fnDepth = ancestors.length;
      m.fns.set(node, { node, name: functionName(node, parent), returns: node.body && node.body.type !== 'BlockStatement' ? [node.body as Node] : [], parent });
      fns.push(node);
      loops = [];
    }
    switch (node.type) {
      case 'Identifier':
        if (node.name === 'isMainThread') m.checksMainThread = true;
        if (isReference(node, parent, key)) {
          pendingRefs.push({ id: node, scope });
          if (node.name === 'workerData' || node.name === 'parentPort') workerApiRefs.push(node);
        }
        break;
      case 'CallExpression':
      case 'OptionalCallExpression':
        onCall(node);
        break;
      case 'NewExpression': {
        const c = unwrap(node.callee as Node);
        if ((c?.type === 'Identifier' && c.name === 'Worker') || (isMember(c) && propName(c) === 'Worker')) {
          m.workerSpawns.push(node);
          m.spawnOwners.set(node, fns.length ? fns[fns.length - 1]! : program);
        }
        if (c?.type === 'Identifier') {
          const entry = { node, binding: null };
          m.news.push(entry);
          pendingNews.push({ entry, id: c });
        }
        break;
      }
      case 'ForStatement':
        if (node.init?.type === 'VariableDeclaration') m.forLoops.push(node);
        break;
      case 'ThisExpression':
        if (classes.length) m.thisClass.set(node, classes[classes.length - 1]!);
        break;
      case 'ClassMethod':
        if (node.kind === 'constructor' && classes.length) {
          const cls = classes[classes.length - 1]!;
          m.ctorOf.set(cls, node);
          // `constructor(private readonly view: Int32Array)` assigns `this.view` from the parameter.
          for (const p of (node.params as Node[]) ?? []) {
            const id = p.type === 'TSParameterProperty' ? unwrapPattern(p.parameter as Node) : null;
            if (id) addMember(`this@${cls.start}.${String(id.name)}`, id);
          }
        }
        break;
      case 'ClassProperty':
      case 'ClassPrivateProperty': {
        // An instance field initialised in place (`#view = new Int32Array(sab)`) is assigned like `this.#view = …`.
        const k = node.key as Node;
        const name = node.computed ? null : k.type === 'Identifier' ? String(k.name) : k.type === 'PrivateName' ? `#${String(k.id?.name)}` : null;
        if (name !== null && node.value && !node.static && classes.length) addMember(`this@${classes[classes.length - 1]!.start}.${name}`, node.value as Node);
        break;
      }
      case 'UpdateExpression': {
        const arg = unwrap(node.argument as Node);
        if (arg?.type === 'Identifier') pendingUpdates.push({ id: arg, node });
        break;
      }
      case 'AwaitExpression': {
        const f = fns.length ? fns[fns.length - 1]! : program;
        const list = m.awaits.get(f);
        if (list) list.push(node.start);
        else m.awaits.set(f, [node.start]);
        break;
      }
      case 'ImportSpecifier':
        if (node.imported?.name === 'isMainThread' && node.local?.type === 'Identifier') mainAliases.add(String(node.local.name));
        break;
      case 'ObjectProperty':
        if (!node.computed && node.key?.type === 'Identifier' && node.key.name === 'isMainThread' && node.value?.type === 'Identifier' && parent?.type === 'ObjectPattern') mainAliases.add(String(node.value.name));
        break;
      case 'BreakStatement':
      case 'ContinueStatement': {
        const target = jumpTarget(node, ancestors, fnDepth);
        if (target) {
          const f = fns.length ? fns[fns.length - 1]! : program;
          const list = m.jumps.get(f);
          if (list) list.push({ node, target });
          else m.jumps.set(f, [{ node, target }]);
        }
        break;
      }
      case 'ReturnStatement':
      case 'ThrowStatement': {
        if (node.type === 'ReturnStatement' && fns.length && node.argument) m.fns.get(fns[fns.length - 1]!)?.returns.push(node.argument as Node);
        const f = fns.length ? fns[fns.length - 1]! : program;
        const list = m.exits.get(f);
        if (list) list.push(node);
        else m.exits.set(f, [node]);
        break;
      }
      case 'AssignmentExpression': {
        const left = unwrap(node.left as Node);
        const right = node.right as Node;
        if (left?.type === 'Identifier' && node.operator !== '=') pendingUpdates.push({ id: left, node });
        if (left?.type === 'Identifier' && node.operator === '=') {
          pendingAssign.push({ id: left, right });
          if (left.name === 'onmessage' && isFunction(unwrap(right) ?? left)) m.messageHandlers.add(unwrap(right)!);
        } else if (isMember(left) && !left.computed && node.operator === '=') {
          // The `this` below is visited after this node: tie it to its class now.
          const root = chainRoot(left);
          if (root?.type === 'ThisExpression' && classes.length) m.thisClass.set(root, classes[classes.length - 1]!);
          addMember(memberKey(m, left), right);
          const r = unwrap(right);
          if (propName(left) === 'onmessage' && r && isFunction(r)) m.messageHandlers.add(r);
        }
        break;
      }
      case 'MemberExpression':
      case 'OptionalMemberExpression':
        if (node.computed) {
          const obj = unwrap(node.object as Node);
          const prop = unwrap(node.property as Node);
          if (obj && prop && prop.type !== 'StringLiteral' && prop.type !== 'TemplateLiteral' && (obj.type === 'Identifier' || obj.type === 'ThisExpression' || isMember(obj))) {
            const kind = classifyAccess(node, parent, key);
            if (kind) {
              const opNode = kind === 'rmw' || (kind === 'write' && parent?.type === 'AssignmentExpression') ? parent! : node;
              const st = site(node);
              m.accesses.push({ node, fns: st.fns, loops: st.loops, ancestors: st.ancestors, side: st.side, kind, op: opNode, array: obj, index: prop });
            }
          }
        } else if (propName(node) === 'isMainThread') m.checksMainThread = true;
        else if (propName(node) === 'workerData' || propName(node) === 'parentPort') {
          // `wt.parentPort`, `require('node:worker_threads').workerData` (not `options.workerData = …`).
          const obj = unwrap(node.object as Node);
          if (obj?.type === 'Identifier') workerApiRefs.push(obj);
          else if (isCall(obj) && /worker_threads/.test(source.slice(obj.start, obj.end))) m.usesWorkerApi = true;
        }
        break;
      default:
        break;
    }

    ancestors.push(node);
    const isClass = node.type === 'ClassDeclaration' || node.type === 'ClassExpression';
    if (isClass) classes.push(node);
    const loop = isLoop(node);
    if (loop) {
      loops.push(node);
      loopsCopy = null;
      m.allLoops.push({ node, owner: fns.length ? fns[fns.length - 1]! : program });
    }
    const finallyTry = node.type === 'TryStatement' && !!node.finalizer;
    if (finallyTry) {
      tries.push(m.finallyTries.length);
      m.finallyTries.push({ node, outer: tries.length > 1 ? tries[tries.length - 2]! : -1 });
    }
    if (node.type === 'IfStatement' || node.type === 'ConditionalExpression') {
      const side = sideOfTest(node.test as Node);
      if (side) m.checksMainThread = true;
      visit(node.test as Node, 'test', node);
      if (node.consequent) {
        sides.push(side ?? (sides[sides.length - 1] ?? null));
        visit(node.consequent as Node, 'consequent', node);
        sides.pop();
      }
      if (node.alternate) {
        const opposite: ThreadSide = side === 'main' ? 'worker' : side === 'worker' ? 'main' : null;
        sides.push(opposite ?? (sides[sides.length - 1] ?? null));
        visit(node.alternate as Node, 'alternate', node);
        sides.pop();
      }
    } else {
      forEachChild(node, visit);
    }
    if (loop) {
      loops.pop();
      loopsCopy = null;
    }
    if (finallyTry) tries.pop();
    if (isClass) classes.pop();
    ancestors.pop();
    if (fnNode) {
      fns.pop();
      loops = savedLoops;
      fnsCopy = null;
      loopsCopy = null;
      fnDepth = savedDepth;
    }
    scope = savedScope;
  };

  visit(program, '', null);
  for (const r of pendingRefs) {
    const name = String(r.id.name);
    const b = scopes.names.has(name) ? lookup(r.scope, name) : null;
    if (b) {
      m.refs.set(r.id, b);
      b.refCount++;
    }
  }
  for (const c of pendingCalls) c.call.binding = m.refs.get(c.id) ?? null;
  if (aliasCalls?.length) resolveAtomicsAliases(m, aliasCalls);
  // worker_threads' own `workerData` / `parentPort` (or the module holding them), not a local of that name.
  m.usesWorkerApi ||= workerApiRefs.some((id) => {
    const b = m.refs.get(id);
    if (!b) return id.name === 'workerData' || id.name === 'parentPort';
    return b.kind === 'import' ? /worker_threads/.test(String(b.importSource)) : b.init !== null && /worker_threads/.test(source.slice(b.init.start, b.init.end));
  });
  for (const a of pendingAssign) m.refs.get(a.id)?.assigned.push(a.right);
  for (const u of pendingUpdates) m.refs.get(u.id)?.updates.push(u.node);
  for (const n of pendingNews) n.entry.binding = m.refs.get(n.id) ?? null;
  return m;
}

/** Text that binds Atomics to a name: `= Atomics` not followed by a member access or call. */
const ATOMICS_ALIAS = /=\s*(?:globalThis\s*\.\s*)?Atomics\b(?!\s*[.[(])/;

/**
 * Adds the calls made through a never-reassigned name bound to Atomics (`A.wait(…)` after
 * `const A = Atomics`, `wait(…)` after `const { wait } = Atomics`) to the Atomics calls, in source order.
 */
function resolveAtomicsAliases(m: FileModel, cands: { site: Site; id: Node; prop: string | null }[]): void {
  const found = new Set<Node>();
  for (const { site, id, prop } of cands) {
    const b = m.refs.get(id);
    if (!b || b.kind === 'param' || b.assigned.length || b.updates.length || !isAtomicsObject(b.init)) continue;
    const op = prop === null ? (b.path.length === 1 ? b.path[0]! : null) : b.path.length === 0 ? prop : null;
    if (!op) continue;
    const args = (site.node.arguments as Node[]) ?? [];
    m.atomics.push({ ...site, op, args, array: unwrap(args[0]) ?? null, index: unwrap(args[1]) ?? null });
    found.add(site.node);
  }
  if (!found.size) return;
  m.atomics.sort((a, b) => a.node.start - b.node.start);
  m.calls = m.calls.filter((c) => !found.has(c.node));
}

/** Key of a non-computed member chain (`this.view`, `obj.a.b`): its text, with `this` tied to its class. */
export function memberKey(m: FileModel, node: Node): string {
  const text = m.source.slice(node.start, node.end).replace(/\s+/g, '');
  const root = chainRoot(node);
  const cls = root?.type === 'ThisExpression' ? m.thisClass.get(root) : undefined;
  return cls && text.startsWith('this') ? `this@${cls.start}${text.slice(4)}` : text;
}

/** True when `n` is a function node passed somewhere the model tracks. */
export function isCallbackOf(set: Set<Node>, fns: Node[]): boolean {
  for (const f of fns) if (set.has(f)) return true;
  return false;
}

/** The innermost function of a site, or the program for top-level code. */
export function ownerOf(m: FileModel, s: Site): Node {
  return s.fns.length ? s.fns[s.fns.length - 1]! : m.program;
}

/** True for call nodes (re-exported for rules). */
export { isCall };

/** The identifier a parameter declares (`view`, `view = dflt`), else null. */
function unwrapPattern(p: Node | null): Node | null {
  const id = p?.type === 'AssignmentPattern' ? (p.left as Node) : p;
  return id?.type === 'Identifier' ? id : null;
}

/** The object at the bottom of a member chain (`this` of `this.a.b`). */
function chainRoot(node: Node): Node | null {
  let cur: Node | null = node;
  for (let i = 0; i < 32 && cur && (cur.type === 'MemberExpression' || cur.type === 'OptionalMemberExpression'); i++) cur = unwrap(cur.object as Node);
  return cur;
}

/** The statement a `break`/`continue` leaves: its label's statement, else the innermost loop (or switch, for break). */
function jumpTarget(node: Node, ancestors: Node[], floor: number): Node | null {
  const label = node.label?.type === 'Identifier' ? String(node.label.name) : null;
  for (let i = ancestors.length - 1; i >= floor; i--) {
    const a = ancestors[i]!;
    if (isFunction(a)) return null;
    if (label !== null) {
      if (a.type === 'LabeledStatement' && a.label?.name === label) return a;
    } else if (isLoop(a) || (node.type === 'BreakStatement' && a.type === 'SwitchStatement')) return a;
  }
  return null;
}
