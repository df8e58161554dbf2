/**
 * Hooks the Atomics lint (src/extension/lint/, its own owner) into the shared diagnostics:
 * the lint gets a DiagnosticCollection-shaped view, so its `set(uri, …)` never erases the
 * findings of the last run on the same file, and vice versa.
 */
import type * as vscode from 'vscode';
import type { DiagnosticsHub } from './diagnostics';
import { registerAtomicsLint } from './lint/index';

/** Starts the lint; returns whether it runs (a failure to start is logged, not fatal). */
export function registerLint(context: vscode.ExtensionContext, hub: DiagnosticsHub, log: (m: string) => void): boolean {
  try {
    registerAtomicsLint(context, hub.view('lint'));
    return true;
  } catch (e) {
    log(`the Atomics lint did not start: ${(e as Error).stack ?? e}`);
    return false;
  }
}
