/** Public shapes of the Atomics lint: findings, text edits, quick fixes, options. */
import type { Diagnostic } from '../../protocol/report';
import type { RuleId, Severity } from './rules';

/** Replace source[start, end) with newText (offsets in UTF-16 code units, like JS strings and VS Code). */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

/** A quick fix: a title and non-overlapping edits of the same file. */
export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

/** Another place involved in a finding. */
export interface RelatedSite {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
}

/** One finding: a report.json Diagnostic (1-based line/column; end column exclusive) plus offsets, related sites and a fix. */
export interface LintFinding extends Diagnostic {
  rule: RuleId;
  severity: Severity;
  /** Offsets of the flagged range. */
  start: number;
  end: number;
  related: RelatedSite[];
  fix?: QuickFix;
}

/** Options of one lint run. */
export interface LintOptions {
  /** Rules to skip. */
  disabledRules?: Iterable<string>;
}
