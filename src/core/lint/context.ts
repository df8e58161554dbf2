/** Shared helpers for the rules of one file: array identity, values, cell keys, reporting. */
import { literalNumber, unwrap, keyText, type Node } from './ast';
import type { AtomicsCall, FileModel, Site } from './model';
import { formatMessage, RULES, type RuleId, type Severity } from './rules';
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

  constructor(readonly m: FileModel, readonly file: string, private readonly disabled: Set<string>) {
    this.values = new ValueAnalysis(m);
    for (const a of m.atomics) {
      const k = this.arrayKey(a.array);
      if (!k) continue;
      this.atomicArrays.add(k);
      const list = this.atomicsByKey.get(k);
      if (list) list.push(a);
      else this.atomicsByKey.set(k, [a]);
    }
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

  private computeKey(expr: Node): string | null {
    const e = unwrap(expr);
    if (!e) return null;
    if (e.type === 'Identifier') {
      const b = this.m.refs.get(e);
      return b ? `b${b.id}` : `g:${String(e.name)}`;
    }
    if ((e.type === 'MemberExpression' || e.type === 'OptionalMemberExpression') && !e.computed) {
      const root = this.arrayKey(e.object as Node) ?? (unwrap(e.object as Node)?.type === 'ThisExpression' ? 'this' : null);
      return root ? `${root}.${keyText(this.m.source, e.property as Node)}` : null;
    }
    return null;
  }

  /** Abstract value of an expression. */
  val(expr: Node | null): Val | null {
    return this.values.of(expr);
  }

  /** A cell index as a comparable key: `#3` for a constant, else its source text. */
  indexKey(expr: Node | null): string {
    const e = unwrap(expr);
    if (!e) return '';
    const n = this.constNumber(e);
    return n !== null ? `#${n}` : keyText(this.m.source, e);
  }

  /** A compile-time number: a literal or a `const` initialised with one. */
  constNumber(expr: Node | null): number | null {
    const e = unwrap(expr);
    const lit = literalNumber(e);
    if (lit !== null || !e || e.type !== 'Identifier') return lit;
    const b = this.m.refs.get(e);
    return b && b.kind === 'const' && b.path.length === 0 && b.assigned.length === 0 ? literalNumber(b.init) : null;
  }

  /** True when two cells may be the same: equal constants, equal text, or a non-constant on either side. */
  mayAlias(i1: Node | null, i2: Node | null): boolean {
    const a = this.indexKey(i1);
    const b = this.indexKey(i2);
    if (a === b) return true;
    return !(a.startsWith('#') && b.startsWith('#'));
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
