/** Quick fixes for lint diagnostics: the core's text edits, plus "ignore this rule on this line". */
import * as vscode from 'vscode';
import { ruleOf, type LintedDocument } from './diagnostics';

/** Provides the lint's code actions from the findings of the last lint of a document. */
export class LintCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly lintedOf: (doc: vscode.TextDocument) => LintedDocument | undefined) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const linted = this.lintedOf(doc);
    if (!linted) return [];
    const actions: vscode.CodeAction[] = [];
    for (const diag of context.diagnostics) {
      const rule = ruleOf(diag);
      if (!rule) continue;
      const i = linted.diagnostics.findIndex((d) => d === diag || (d.message === diag.message && d.range.isEqual(diag.range)));
      const finding = i >= 0 ? linted.findings[i] : undefined;
      // Offsets belong to the linted text: only offer the edit while the document is unchanged.
      if (finding?.fix && linted.version === doc.version) {
        const action = new vscode.CodeAction(finding.fix.title, vscode.CodeActionKind.QuickFix);
        const edit = new vscode.WorkspaceEdit();
        for (const e of finding.fix.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
        action.edit = edit;
        action.diagnostics = [diag];
        action.isPreferred = true;
        actions.push(action);
      }
      actions.push(ignoreAction(doc, diag, rule));
    }
    return actions;
  }
}

/** Inserts `// parprof-ignore-next-line RULE` above the flagged line, with its indentation. */
function ignoreAction(doc: vscode.TextDocument, diag: vscode.Diagnostic, rule: string): vscode.CodeAction {
  const line = doc.lineAt(diag.range.start.line);
  const indent = line.text.slice(0, line.firstNonWhitespaceCharacterIndex);
  const action = new vscode.CodeAction(`Ignore ${rule} on this line`, vscode.CodeActionKind.QuickFix);
  action.edit = new vscode.WorkspaceEdit();
  action.edit.insert(doc.uri, new vscode.Position(line.lineNumber, 0), `${indent}// parprof-ignore-next-line ${rule}\n`);
  action.diagnostics = [diag];
  return action;
}
