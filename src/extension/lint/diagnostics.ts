/** Lint findings as VS Code diagnostics, and the way back from a diagnostic to its rule. */
import * as vscode from 'vscode';
import { RULES, type LintFinding, type RuleId } from '../../core/lint/index';

/** `source` of every lint diagnostic. */
export const LINT_SOURCE = 'parprof';

/** The findings behind one document's diagnostics, for the code action provider. */
export interface LintedDocument {
  version: number;
  findings: LintFinding[];
  diagnostics: vscode.Diagnostic[];
}

/** One finding as a VS Code diagnostic (offsets → positions of the linted text). */
export function toDiagnostic(doc: vscode.TextDocument, f: LintFinding, extensionUri: vscode.Uri): vscode.Diagnostic {
  const range = new vscode.Range(doc.positionAt(f.start), doc.positionAt(f.end));
  const severity = f.severity === 'error' ? vscode.DiagnosticSeverity.Error : f.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
  const d = new vscode.Diagnostic(range, f.message, severity);
  d.source = LINT_SOURCE;
  d.code = { value: f.rule, target: vscode.Uri.joinPath(extensionUri, 'docs', 'rules', `${f.rule}.md`) };
  if (f.related.length) {
    d.relatedInformation = f.related.map(
      (r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(doc.uri, new vscode.Range(r.line - 1, r.column - 1, r.endLine - 1, r.endColumn - 1)), r.message),
    );
  }
  return d;
}

/** The rule id of a lint diagnostic, or null for diagnostics from elsewhere. */
export function ruleOf(d: vscode.Diagnostic): RuleId | null {
  if (d.source !== LINT_SOURCE || typeof d.code !== 'object' || d.code === null) return null;
  const v = String(d.code.value);
  return v in RULES ? (v as RuleId) : null;
}
