/**
 * Hooks the Atomics lint (src/extension/lint/, its own owner) into the shared diagnostics:
 * the lint gets a DiagnosticCollection-shaped view, so its `set(uri, …)` never erases the
 * findings of the last run on the same file.
 */
import type * as vscode from 'vscode';
import type { DiagnosticsHub } from './diagnostics';
import { registerAtomicsLint } from './lint/index';

/** Starts the lint, if this build has one; returns whether it runs. */
export function registerLint(context: vscode.ExtensionContext, hub: DiagnosticsHub, log: (m: string) => void): boolean {
  try {
    registerAtomicsLint(context, hub.view('lint'));
    return true;
  } catch (e) {
    log(`Atomics lint failed to start: ${(e as Error).message}`);
    return false;
  }
}
