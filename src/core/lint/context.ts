/** Shared helpers for the rules of one file: array identity, values, cell keys, reporting. */
import { ELEMENT_BYTES, isMember, literalNumber, propName, TYPED_ARRAYS, unwrap, keyText, type Node } from './ast';
import { memberKey, type AtomicsCall, type FileModel, type Site } from './model';
import type { Binding } from './scope';
import { formatMessage, RULES, type RuleId, type Severity } from './rules';
import { findAfter } from './ranges';
import type { LintFinding, QuickFix, RelatedSite } from './types';
import { ValueAnalysis, type Val } from './values';

/** Per-file state handed to every rule. */
export class LintContext {
  readonly values: ValueAnalysis;
  readonly findings: LintFinding[] = [];
  /** Array keys used as the first argument of some Atomics call. */
  readonly atomicArrays = new Set<string>();
  /** Atomics calls by array key. */
  readonly atomicsByKey = new Map<string, AtomicsCall[]>();
  private readonly keyMemo = new Map<Node, string | null>();
  private readonly aliasMemo = new Map<string, AliasIndex>();
  private readonly cellMemo = new Map<AtomicsCall, string>();
  /** Binding id → the binding id it is the same view as (see sameViews). */
  private readonly viewAlias = new Map<number, number>();
  private readonly constMemo = new Map<Node, number | null>();
  private loopOfCounter: Map<Binding, Node> | null = null;
  private readonly enumMemo = new Map<Node, Map<string, number | null>>();
  /** Where views sit in their buffers (see viewLayouts), built on first use. */
  private layouts: ViewLayouts | null = null;

  constructor(readonly m: FileModel, readonly file: string, private readonly disabled: Set<string>) {
    this.values = new ValueAnalysis(m);
    this.sameViews();
    for (const a of m.atomics) {
      const k = this.arrayKey(a.array);
      if (!k) continue;
      this.atomicArrays.add(k);
      const list = this.atomicsByKey.get(k);
      if (list) list.push(a);
      else this.atomicsByKey.set(k, [a]);
    }
  }

  /**
   * One program, two threads: `const flag = new Int32Array(sab, 0, 1)` where `sab` is a new
   * SharedArrayBuffer, and `const flag = new Int32Array(workerData, 0, 1)` in the worker branch (or a
   * message handler) are one array. Views are merged only when they agree on name, type and the
   * offset/length arguments and one is over a created buffer, the other over a received one.
   */
  private sameViews(): void {
    const groups = new Map<string, { created: number[]; received: number[] }>();
    for (const b of this.m.scopes.bindings) {
      const init = unwrap(b.init);
      if (b.path.length || !init || init.type !== 'NewExpression' || (b.kind !== 'const' && b.kind !== 'let' && b.kind !== 'var')) continue;
      const callee = unwrap(init.callee as Node);
      const args = (init.arguments as Node[]) ?? [];
      if (callee?.type !== 'Identifier' || !TYPED_ARRAYS.has(String(callee.name)) || !args.length) continue;
      const origin = this.values.of(args[0]);
      if (origin?.k !== 'sab' && origin?.k !== 'payload') continue;
      const key = `${b.name}|${String(callee.name)}|${args.slice(1).map((a) => keyText(this.m.source, a)).join(',')}`;
      const g = groups.get(key) ?? { created: [], received: [] };
      groups.set(key, g);
      (origin.k === 'sab' ? g.created : g.received).push(b.id);
    }
    for (const g of groups.values()) {
      if (!g.created.length || !g.received.length) continue;
      const rep = g.created[0]!;
      for (const id of [...g.created, ...g.received]) if (id !== rep) this.viewAlias.set(id, rep);
    }
  }

  /**
   * Views whose place in a shared buffer is known: `const hdr = new Int32Array(sab, 0, 4)`, `new Int32Array(sab, 16)`,
   * `new BigInt64Array(workerData)`, `new Int32Array(other.buffer, 8)`, over a buffer name nobody reassigns, with a
   * constant byte offset (and length, if any). Keyed by array key, and the array keys over each buffer.
   */
  private viewLayouts(): ViewLayouts {
    if (this.layouts) return this.layouts;
    const byView = new Map<string, ViewLayout[]>();
    const byBuffer = new Map<string, string[]>();
    const nearAtomics = new Set<string>();
    this.layouts = { byView, byBuffer, nearAtomics };
    // Names bound once to a `new …(…)` and never reassigned, by array key.
    const views: [string, Node][] = [];
    for (const b of this.m.scopes.bindings) {
      const init = unwrap(b.init);
      if (b.path.length || !init || init.type !== 'NewExpression' || b.assigned.length || b.updates.length) continue;
      if (b.kind === 'const' || b.kind === 'let' || b.kind === 'var') views.push([`b${this.viewAlias.get(b.id) ?? b.id}`, init]);
    }
    const bindingOf = new Map(views);
    const layoutOf = (init: Node, depth: number): ViewLayout | null => {
      const callee = unwrap(init.callee as Node);
      const type = callee?.type === 'Identifier' ? String(callee.name) : '';
      const bytes = ELEMENT_BYTES[type];
      const args = ((init.arguments as Node[]) ?? []).map((x) => unwrap(x));
      if (!bytes || !TYPED_ARRAYS.has(type) || !args.length || args.length > 3 || args.some((x) => !x || x.type === 'SpreadElement')) return null;
      const buffer = this.bufferKey(args[0]!, depth, layoutOf, bindingOf);
      const offset = args.length > 1 ? this.constNumber(args[1]!) : 0;
      const length = args.length > 2 ? this.constNumber(args[2]!) : null;
      if (buffer === null || offset === null || !Number.isInteger(offset) || offset < 0 || offset % bytes !== 0) return null;
      if (args.length > 2 && (length === null || !Number.isInteger(length) || length < 0)) return null;
      return { buffer, offset, bytes, length };
    };
    for (const [key, init] of views) {
      const layout = layoutOf(init, 0);
      if (!layout) continue;
      (byView.get(key) ?? byView.set(key, []).get(key)!).push(layout);
        const over = byBuffer.get(layout.buffer) ?? byBuffer.set(layout.buffer, []).get(layout.buffer)!;
      if (!over.includes(key)) over.push(key);
    }
    for (const over of byBuffer.values()) {
      for (const key of over) if (over.some((o) => o !== key && this.atomicArrays.has(o))) nearAtomics.add(key);
    }
    return this.layouts;
  }

  /**
   * The identity of a shared buffer expression: a name nobody reassigns (or a property path from one that nobody
   * assigns) holding a SharedArrayBuffer or a received one, or `view.buffer` of a view with a known layout; else null.
   */
  private bufferKey(expr: Node, depth: number, layoutOf: (init: Node, depth: number) => ViewLayout | null, bindingOf: Map<string, Node>): string | null {
    const e = unwrap(expr);
    if (!e || depth > 4) return null;
    if (isMember(e) && !e.computed && propName(e) === 'buffer') {
      const view = this.arrayKey(e.object as Node);
      const init = view ? bindingOf.get(view) : undefined;
      return init ? (layoutOf(init, depth + 1)?.buffer ?? null) : null;
    }
    const v = this.values.of(e);
    if (v?.k !== 'sab' && v?.k !== 'payload') return null;
    let root: Node | null = e;
    for (let i = 0; i < 8 && root && (root.type === 'MemberExpression' || root.type === 'OptionalMemberExpression'); i++) {
      if (root.computed || this.m.memberAssigned.has(memberKey(this.m, root))) return null;
      root = unwrap(root.object as Node);
    }
    if (!root || root.type !== 'Identifier') return null;
    const b = this.m.refs.get(root);
    if (b ? b.assigned.length || b.updates.length : root.name !== 'workerData') return null;
    return this.arrayKey(e);
  }

  /**
   * The first Atomics call (in source order) that `keep` accepts on another view of the same buffer whose element
   * overlaps the bytes of `array[index]`: only for constant indices on both sides and views whose layout is known.
   */
  otherViewAtomics(array: Node | null, index: Node | null, keep?: (c: AtomicsCall) => boolean): AtomicsCall | undefined {
    const key = this.arrayKey(array);
    const { byView, byBuffer, nearAtomics } = this.viewLayouts();
    if (!key || !nearAtomics.has(key)) return undefined;
    const i = this.constNumber(index);
    if (i === null || !Number.isInteger(i) || i < 0) return undefined;
    let best: AtomicsCall | undefined;
    for (const own of byView.get(key) ?? []) {
      if (own.length !== null && i >= own.length) continue;
      const lo = own.offset + i * own.bytes;
      const hi = lo + own.bytes;
      for (const other of byBuffer.get(own.buffer) ?? []) {
        if (other === key || !this.atomicArrays.has(other)) continue;
        const calls = this.aliasIndex(other);
        for (const view of byView.get(other) ?? []) {
          if (view.buffer !== own.buffer) continue;
          // The elements of the other view that share a byte with [lo, hi).
          const last = Math.ceil((hi - view.offset) / view.bytes) - 1;
          for (let j = Math.max(0, Math.floor((lo - view.offset) / view.bytes)); j <= last && (view.length === null || j < view.length); j++) {
            const c = calls.at(j).find((x) => !keep || keep(x));
            if (c && (!best || c.node.start < best.node.start)) best = c;
          }
        }
      }
    }
    return best;
  }

  /** True when the rule should run. */
  enabled(rule: RuleId): boolean {
    return !this.disabled.has(rule);
  }

  /** Identity of an array expression: its binding, a global name, or a member chain (`this.view`). */
  arrayKey(expr: Node | null): string | null {
    if (!expr) return null;
    const memo = this.keyMemo.get(expr);
    if (memo !== undefined) return memo;
    const k = this.computeKey(expr);
    this.keyMemo.set(expr, k);
    return k;
  }

  /** Atomics calls on the array `key` (empty for null). */
  atomicsOn(key: string | null): AtomicsCall[] {
    return (key && this.atomicsByKey.get(key)) || [];
  }

  /** The Atomics calls on the array `key` grouped by cell (empty for null). */
  aliasIndex(key: string | null): AliasIndex {
    const k = key ?? '';
    let idx = this.aliasMemo.get(k);
    if (!idx) {
      idx = new AliasIndex(this, this.atomicsOn(key));
      this.aliasMemo.set(k, idx);
    }
    return idx;
  }

  private computeKey(expr: Node): string | null {
    const e = unwrap(expr);
    if (!e) return null;
    if (e.type === 'Identifier') {
      const b = this.m.refs.get(e);
      return b ? `b${this.viewAlias.get(b.id) ?? b.id}` : `g:${String(e.name)}`;
    }
    if ((e.type === 'MemberExpression' || e.type === 'OptionalMemberExpression') && !e.computed) {
      const obj = unwrap(e.object as Node);
      const cls = obj?.type === 'ThisExpression' ? this.m.thisClass.get(obj) : undefined;
      const root = this.arrayKey(e.object as Node) ?? (obj?.type === 'ThisExpression' ? (cls ? `this@${cls.start}` : 'this') : null);
      return root ? `${root}.${keyText(this.m.source, e.property as Node)}` : null;
    }
    return null;
  }

  /** Abstract value of an expression. */
  val(expr: Node | null): Val | null {
    return this.values.of(expr);
  }

  /** The cell an Atomics call works on as a comparable key: array key and index key. */
  cellOf(c: AtomicsCall): string {
    let k = this.cellMemo.get(c);
    if (k === undefined) {
      k = `${this.arrayKey(c.array)}[${this.indexKey(c.index)}]`;
      this.cellMemo.set(c, k);
    }
    return k;
  }

  /** A cell index as a comparable key: `#3` for a constant, else its source text. */
  indexKey(expr: Node | null): string {
    const e = unwrap(expr);
    if (!e) return '';
    const n = this.constNumber(e);
    return n !== null ? `#${n}` : keyText(this.m.source, e);
  }

  /**
   * A compile-time number: a literal, a `const` initialised with one, an enum member, a property of a
   * `const` object literal or a static class field nobody assigns, or simple arithmetic on those.
   */
  constNumber(expr: Node | null, depth = 0): number | null {
    const e = unwrap(expr);
    if (!e || depth > 6) return null;
    const memo = this.constMemo.get(e);
    if (memo !== undefined) return memo;
    const v = this.computeConst(e, depth);
    this.constMemo.set(e, v);
    return v;
  }

  private computeConst(e: Node, depth: number): number | null {
    const lit = literalNumber(e);
    if (lit !== null) return lit;
    switch (e.type) {
      case 'Identifier': {
        const b = this.m.refs.get(e);
        return b && b.kind === 'const' && b.path.length === 0 && b.assigned.length === 0 ? this.constNumber(b.init, depth + 1) : null;
      }
      case 'UnaryExpression': {
        const v = e.operator === '-' || e.operator === '+' ? this.constNumber(e.argument as Node, depth + 1) : null;
        return v === null ? null : e.operator === '-' ? -v : v;
      }
      case 'BinaryExpression': {
        const l = this.constNumber(e.left as Node, depth + 1);
        const r = l === null ? null : this.constNumber(e.right as Node, depth + 1);
        return l === null || r === null ? null : fold(String(e.operator), l, r);
      }
      case 'MemberExpression':
      case 'OptionalMemberExpression': {
        const name = propName(e);
        const obj = unwrap(e.object as Node);
        if (name === null || obj?.type !== 'Identifier') return null;
        const b = this.m.refs.get(obj);
        if (!b || b.assigned.length || this.m.memberAssigned.has(keyText(this.m.source, e))) return null;
        if (b.kind === 'enum' && b.decl) return this.enumMembers(b.decl).get(name) ?? null;
        if (b.kind === 'class' && b.decl) return this.staticField(b.decl, name, depth);
        const init = unwrap(b.init);
        if (b.kind === 'const' && b.path.length === 0 && init?.type === 'ObjectExpression') {
          for (const p of (init.properties as Node[]) ?? []) {
            if (p.type !== 'ObjectProperty' || p.computed) continue;
            const k = p.key as Node;
            if ((k.type === 'Identifier' && k.name === name) || (k.type === 'StringLiteral' && k.value === name)) return this.constNumber(p.value as Node, depth + 1);
          }
        }
        return null;
      }
      default:
        return null;
    }
  }

  /** Values of a TypeScript enum's numeric members (auto-incremented, literal or computed from earlier members). */
  private enumMembers(decl: Node): Map<string, number | null> {
    const known = this.enumMemo.get(decl);
    if (known) return known;
    const out = new Map<string, number | null>();
    this.enumMemo.set(decl, out);
    let next: number | null = 0;
    const members = ((decl.members ?? decl.body?.members) as Node[] | undefined) ?? [];
    const evalInit = (n: Node | null, d: number): number | null => {
      const u = unwrap(n);
      if (!u || d > 6) return null;
      if (u.type === 'Identifier') return out.get(String(u.name)) ?? null;
      if (u.type === 'BinaryExpression') {
        const l = evalInit(u.left as Node, d + 1);
        const r = l === null ? null : evalInit(u.right as Node, d + 1);
        return l === null || r === null ? null : fold(String(u.operator), l, r);
      }
      if (u.type === 'UnaryExpression' && u.operator === '-') {
        const v = evalInit(u.argument as Node, d + 1);
        return v === null ? null : -v;
      }
      return literalNumber(u);
    };
    for (const mem of members) {
      const id = mem.id as Node | undefined;
      const name = id?.type === 'Identifier' ? String(id.name) : id?.type === 'StringLiteral' ? String(id.value) : null;
      const v: number | null = mem.initializer ? evalInit(mem.initializer as Node, 0) : next;
      if (name !== null) out.set(name, v);
      next = v === null ? null : v + 1;
    }
    return out;
  }

  /** A static class field initialised with a constant (`static readonly LOCK = 0`). */
  private staticField(cls: Node, name: string, depth: number): number | null {
    for (const p of (cls.body?.body as Node[] | undefined) ?? []) {
      if (p.type !== 'ClassProperty' || !p.static || p.computed) continue;
      const k = p.key as Node;
      if (k.type === 'Identifier' && k.name === name) return this.constNumber(p.value as Node, depth + 1);
    }
    return null;
  }

  /**
   * True when two cells may be the same: equal constants or equal text, or a non-constant on one
   * side that is not evidently above the other side's constant (`HDR + i` with `for (let i = 0; …; i++)`).
   */
  mayAlias(i1: Node | null, i2: Node | null): boolean {
    const a = this.indexKey(i1);
    const b = this.indexKey(i2);
    if (a === b) return true;
    const ca = a.startsWith('#');
    const cb = b.startsWith('#');
    if (ca && cb) return false;
    if (ca || cb) {
      const c = Number((ca ? a : b).slice(1));
      const lo = this.lowerBound(ca ? i2 : i1, 0);
      if (lo !== null && lo > c) return false;
    }
    return true;
  }

  /** A lower bound of an index: constants, counters of `for (let i = c; …; i++)` loops, sums of those. */
  lowerBound(expr: Node | null, depth: number): number | null {
    const e = unwrap(expr);
    if (!e || depth > 4) return null;
    const c = this.constNumber(e);
    if (c !== null) return c;
    if (e.type === 'BinaryExpression' && e.operator === '+') {
      const l = this.lowerBound(e.left as Node, depth + 1);
      const r = l === null ? null : this.lowerBound(e.right as Node, depth + 1);
      return l === null || r === null ? null : l + r;
    }
    if (e.type !== 'Identifier') return null;
    const b = this.m.refs.get(e);
    if (!b || b.assigned.length || (b.kind !== 'let' && b.kind !== 'var')) return null;
    const loop = this.counterLoop(b);
    const update = loop?.update as Node | null | undefined;
    if (!loop || !update) return null;
    const decl = ((loop.init as Node).declarations as Node[]).find((d) => d.id === b.node);
    const start = decl ? this.constNumber(decl.init as Node | null) : null;
    if (start === null) return null;
    // Only counted upwards, and only by the loop's own update.
    const up = b.updates.every((u) => u.start >= update.start && u.end <= update.end &&
      ((u.type === 'UpdateExpression' && u.operator === '++') || (u.type === 'AssignmentExpression' && u.operator === '+=' && (this.constNumber(u.right as Node) ?? -1) >= 0)));
    return up ? start : null;
  }

  private counterLoop(b: Binding): Node | null {
    if (!this.loopOfCounter) {
      this.loopOfCounter = new Map();
      for (const loop of this.m.forLoops) {
        for (const d of ((loop.init as Node).declarations as Node[]) ?? []) {
          const db = d.id ? this.m.scopes.declared.get(d.id as Node) : undefined;
          if (db) this.loopOfCounter.set(db, loop);
        }
      }
    }
    return this.loopOfCounter.get(b) ?? null;
  }

  /** Source text of a node. */
  text(n: Node | null): string {
    return n ? this.m.source.slice(n.start, n.end) : '';
  }

  /** A related-information entry for a node. */
  related(n: Node, message: string): RelatedSite {
    return { file: this.file, line: n.loc.start.line, column: n.loc.start.column + 1, endLine: n.loc.end.line, endColumn: n.loc.end.column + 1, message };
  }

  /** Records a finding over `node`. */
  report(rule: RuleId, node: Node, vars: Record<string, string>, extra: { related?: RelatedSite[]; fix?: QuickFix | null; severity?: Severity } = {}): void {
    if (!this.enabled(rule)) return;
    this.findings.push({
      rule,
      severity: extra.severity ?? RULES[rule].severity,
      file: this.file,
      line: node.loc.start.line,
      column: node.loc.start.column + 1,
      endLine: node.loc.end.line,
      endColumn: node.loc.end.column + 1,
      message: formatMessage(rule, vars),
      start: node.start,
      end: node.end,
      related: extra.related ?? [],
      ...(extra.fix ? { fix: extra.fix } : {}),
    });
  }

  /** The statement list a node sits in directly (for inserting statements), or null. */
  statementParent(s: Site): { stmt: Node; list: Node } | null {
    const anc = s.ancestors;
    const stmt = anc[anc.length - 1];
    const list = anc[anc.length - 2];
    if (!stmt || stmt.type !== 'ExpressionStatement' || !list) return null;
    return list.type === 'BlockStatement' || list.type === 'Program' || list.type === 'StaticBlock' || list.type === 'SwitchCase' ? { stmt, list } : null;
  }
}

/** The views with a known place, by array key; the array keys over each buffer; the views with an Atomics-used neighbour. */
interface ViewLayouts {
  byView: Map<string, ViewLayout[]>;
  byBuffer: Map<string, string[]>;
  nearAtomics: Set<string>;
}

/** Where a view sits in its buffer: bytes [offset, offset + length × bytes), or to the buffer's end for a null length. */
interface ViewLayout {
  buffer: string;
  offset: number;
  bytes: number;
  length: number | null;
}

/**
 * Atomics calls on one array (in source order) grouped by cell, to find the first one that `mayAlias` an
 * index without trying every call: a constant index meets its own cell and the calls with variable
 * indices; a variable one meets every call, or, with a known lower bound, the constant cells from there.
 */
export class AliasIndex {
  private readonly byIndex = new Map<string, AtomicsCall[]>();
  /** Calls whose index is no constant. */
  readonly variable: AtomicsCall[] = [];
  private readonly constants: { value: number; calls: AtomicsCall[] }[] = [];

  constructor(private readonly cx: LintContext, readonly calls: readonly AtomicsCall[]) {
    for (const c of calls) {
      const k = cx.indexKey(c.index);
      let list = this.byIndex.get(k);
      if (!list) {
        list = [];
        this.byIndex.set(k, list);
        if (k.startsWith('#')) this.constants.push({ value: Number(k.slice(1)), calls: list });
      }
      list.push(c);
      if (!k.startsWith('#')) this.variable.push(c);
    }
  }

  /** Calls whose index is the constant `n`. */
  at(n: number): readonly AtomicsCall[] {
    return this.byIndex.get(`#${n}`) ?? [];
  }

  /** The first call after offset `after` that `keep` accepts and whose cell may be `index`'s: `calls.find((c) => mayAlias(c.index, index) && keep(c))`. */
  first(index: Node | null, keep?: (c: AtomicsCall) => boolean, after = -1): AtomicsCall | undefined {
    const cx = this.cx;
    const key = cx.indexKey(index);
    let best: AtomicsCall | undefined;
    const take = (c: AtomicsCall | undefined): void => {
      if (c && (!best || c.node.start < best.node.start)) best = c;
    };
    if (key.startsWith('#')) {
      take(findAfter(this.byIndex.get(key) ?? [], after, keep));
      take(findAfter(this.variable, after, (c) => cx.mayAlias(c.index, index) && (!keep || keep(c))));
      return best;
    }
    const lo = cx.lowerBound(index, 0);
    if (lo === null) return findAfter(this.calls, after, keep);
    take(findAfter(this.variable, after, keep));
    for (const g of this.constants) if (!(lo > g.value)) take(findAfter(g.calls, after, keep));
    return best;
  }
}

/** Integer arithmetic of constant indices; null for anything else. */
function fold(op: string, l: number, r: number): number | null {
  switch (op) {
    case '+': return l + r;
    case '-': return l - r;
    case '*': return l * r;
    case '|': return l | r;
    case '&': return l & r;
    case '<<': return l << r;
    case '>>': return l >> r;
    default: return null;
  }
}
