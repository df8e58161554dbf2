/** The Atomics lint entry points: lint a source text or a file into findings with quick fixes. */
import { readFile } from 'node:fs/promises';
import { parse, type ParserPlugin } from '@babel/parser';
import { checkAccesses } from './checkAccess';
import { checkArrays } from './checkArrays';
import { checkLocks } from './checkLocks';
import { checkWaits } from './checkWait';
import { LintContext } from './context';
import { LockModel } from './locks';
import { buildModel } from './model';
import { PARSE_OPTIONS, parseSource, pluginsFor } from './parse';
import { RULE_IDS } from './rules';
import type { LintFinding, LintOptions } from './types';
import { suppressedBy, ignoreDirectives } from './ignore';

export { RULES, RULE_IDS, type RuleId, type Severity } from './rules';
export { applyEdits } from './fixes';
export type { LintFinding, LintOptions, QuickFix, TextEdit, RelatedSite } from './types';

/** Files worth parsing mention Atomics, SharedArrayBuffer or a typed array; everything else has no findings. */
const RELEVANT = /Atomics|SharedArrayBuffer|(?:Int|Uint|Float|BigInt|BigUint)(?:8|16|32|64)(?:Clamped)?Array/;

/** Lints one source text; may throw only on an analyser bug (the fuzz test holds it to never). */
export function analyseSource(source: string, file: string, options: LintOptions = {}): LintFinding[] {
  return analyse(source, file, options).findings;
}

/** Findings plus whether the text parsed at all (an editor keeps the last findings while the file is half-typed). */
export interface LintResult {
  findings: LintFinding[];
  parsed: boolean;
  /** True when the analyser's own parse shows the text valid (no error recovered from), so syntaxError would return null. */
  valid?: boolean;
}

/** Lints one source text and never throws; `parsed` is false when the text could not be parsed. */
export function lintText(source: string, file: string, options: LintOptions = {}): LintResult {
  try {
    return analyse(source, file, options);
  } catch {
    return { findings: [], parsed: false };
  }
}

function analyse(source: string, file: string, options: LintOptions): LintResult {
  if (!RELEVANT.test(source)) return { findings: [], parsed: true };
  const parsed = parseSource(source, file);
  if (!parsed.program) return { findings: [], parsed: false };
  const disabled = new Set<string>(options.disabledRules ?? []);
  const cx = new LintContext(buildModel(source, parsed.program), file, disabled);
  const locks = new LockModel(cx);
  checkAccesses(cx, locks);
  checkArrays(cx);
  checkWaits(cx);
  checkLocks(cx, locks);
  const directives = ignoreDirectives(parsed.comments);
  const seen = new Set<string>();
  const out: LintFinding[] = [];
  for (const f of cx.findings) {
    const key = `${f.rule}@${f.start}`;
    if (seen.has(key) || suppressedBy(directives, f)) continue;
    seen.add(key);
    out.push(f);
  }
  out.sort((a, b) => a.start - b.start || RULE_IDS.indexOf(a.rule) - RULE_IDS.indexOf(b.rule));
  return { findings: out, parsed: true, valid: parsed.errorCount === 0 && !parsed.retried };
}

/** Lints one source text and never throws (an internal failure yields no findings). */
export function lintSource(source: string, file: string, options: LintOptions = {}): LintFinding[] {
  try {
    return analyseSource(source, file, options);
  } catch {
    return [];
  }
}

/** Reads and lints one file (read errors propagate to the caller). */
export async function lintFile(file: string, options: LintOptions = {}): Promise<LintFinding[]> {
  return lintSource(await readFile(file, 'utf8'), file, options);
}

/** Where a file stops being valid JavaScript/TypeScript: Babel's message and a 1-based position. */
export interface SyntaxProblem {
  message: string;
  line: number;
  column: number;
}

/**
 * The first syntax error of a source text, or null when it parses (strictly, unlike the
 * analyser's error-recovering parse, and whether or not it mentions Atomics): what the CLI
 * reports as a file it could not read. TypeScript decorators count as valid.
 */
export function syntaxError(source: string, file: string): SyntaxProblem | null {
  const attempt = (plugins: ParserPlugin[]): { message?: string; loc?: { line: number; column: number } } | null => {
    try {
      parse(source, { ...PARSE_OPTIONS, plugins });
      return null;
    } catch (e) {
      return (e ?? {}) as { message?: string; loc?: { line: number; column: number } };
    }
  };
  const plugins = pluginsFor(file);
  const e = attempt(plugins);
  if (!e) return null;
  if (plugins.includes('typescript') && !attempt([...plugins, 'decorators-legacy'])) return null;
  const message = String(e.message ?? 'syntax error').replace(/\s*\(\d+:\d+\)$/, '');
  return { message, line: e.loc?.line ?? 1, column: (e.loc?.column ?? 0) + 1 };
}
