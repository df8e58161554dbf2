/**
 * Hooks the Atomics lint (src/extension/lint/, its own owner) into the shared diagnostics:
 * the lint gets a DiagnosticCollection-shaped view, so its `set(uri, …)` never erases the
 * findings of the last run on the same file.
 */
import type * as vscode from 'vscode';
import type { DiagnosticsHub } from './diagnostics';

/** Starts the lint, if this build has one; returns whether it runs. */
export function registerLint(_context: vscode.ExtensionContext, _hub: DiagnosticsHub, log: (m: string) => void): boolean {
  log('Atomics lint is not part of this build yet.');
  return false;
}
