/**
 * The Atomics lint in VS Code: diagnostics (squiggles + Problems) for JS/TS files on open, on
 * save and as the user types (debounced), with related information, quick fixes computed by the
 * core, an "ignore on this line" action, and settings under `parallelProfiler.lint.*`.
 */
import * as vscode from 'vscode';
import { lintText } from '../../core/lint/index';
import { CONFIG_SECTION, getSetting } from '../config';
import { LintCodeActions } from './codeActions';
import { toDiagnostic, type LintedDocument } from './diagnostics';

/** Languages the lint runs on. */
export const LINT_LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'];

/** Starts the lint; `collection` is the lint's view of the shared diagnostics. */
export function registerAtomicsLint(context: vscode.ExtensionContext, collection: vscode.DiagnosticCollection): void {
  const linted = new Map<string, LintedDocument>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  const wanted = (doc: vscode.TextDocument): boolean =>
    LINT_LANGUAGES.includes(doc.languageId) && (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled' || doc.uri.scheme === 'vscode-remote');

  const lintNow = (doc: vscode.TextDocument): void => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.delete(key);
    if (doc.isClosed || !wanted(doc) || !getSetting('lint.enabled', doc.uri)) {
      linted.delete(key);
      collection.delete(doc.uri);
      return;
    }
    const rules = getSetting('lint.rules', doc.uri);
    const disabledRules = Object.keys(rules).filter((r) => rules[r] === false);
    const fileName = doc.uri.scheme === 'untitled' ? `untitled.${doc.languageId.startsWith('typescript') ? 'ts' : 'js'}` : doc.fileName;
    const result = lintText(doc.getText(), fileName, { disabledRules });
    // A half-typed file that does not parse keeps its last findings instead of flickering to none.
    if (!result.parsed && linted.has(key)) return;
    const diagnostics = result.findings.map((f) => toDiagnostic(doc, f, context.extensionUri));
    linted.set(key, { version: doc.version, findings: result.findings, diagnostics });
    collection.set(doc.uri, diagnostics);
  };

  const lintSoon = (doc: vscode.TextDocument): void => {
    if (!wanted(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => lintNow(doc), Math.max(0, getSetting('lint.debounceMs', doc.uri))));
  };

  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(lintNow),
    vscode.workspace.onDidSaveTextDocument(lintNow),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length) lintSoon(e.document);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      const key = doc.uri.toString();
      clearTimeout(timers.get(key));
      timers.delete(key);
      linted.delete(key);
      collection.delete(doc.uri);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${CONFIG_SECTION}.lint`)) for (const doc of vscode.workspace.textDocuments) lintNow(doc);
    }),
    vscode.languages.registerCodeActionsProvider(
      LINT_LANGUAGES.map((language) => ({ language })),
      new LintCodeActions((doc) => linted.get(doc.uri.toString())),
      { providedCodeActionKinds: LintCodeActions.kinds },
    ),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
  for (const doc of vscode.workspace.textDocuments) lintNow(doc);
}
