/** `// parprof-ignore-next-line [RULE…]` comments: suppress findings on the following line. */
import type { Node } from './ast';
import type { LintFinding } from './types';

const DIRECTIVE = /parprof-ignore-next-line\b([^\n*]*)/;

/** Suppression directives by the line they apply to; an empty set means every rule. */
export type IgnoreMap = Map<number, Set<string>>;

/** Collects the directives from a file's comments. */
export function ignoreDirectives(comments: Node[]): IgnoreMap {
  const map: IgnoreMap = new Map();
  for (const c of comments) {
    const match = DIRECTIVE.exec(String(c.value ?? ''));
    if (!match) continue;
    const rules = (match[1] ?? '').split(/[\s,]+/).filter((r) => /^[a-z][\w-]*$/.test(r));
    const line = c.loc.end.line + 1;
    const prev = map.get(line);
    if (prev && prev.size === 0) continue;
    if (rules.length === 0) map.set(line, new Set());
    else map.set(line, new Set([...(prev ?? []), ...rules]));
  }
  return map;
}

/** True when a directive on the previous line covers this finding. */
export function suppressedBy(map: IgnoreMap, f: LintFinding): boolean {
  const rules = map.get(f.line);
  return !!rules && (rules.size === 0 || rules.has(f.rule));
}
