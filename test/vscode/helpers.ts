/** Shared helpers of the real-VS-Code suite. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ParallelProfilerApi } from '../../src/extension/extension';

/** The extension's id as package.json spells it. */
export const EXTENSION_ID = 'parprof.parallel-profiler';

/** Activates the extension and returns its test API. */
export async function getApi(): Promise<ParallelProfilerApi> {
  const ext = vscode.extensions.getExtension<ParallelProfilerApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is loaded`);
  return ext.isActive ? ext.exports : await ext.activate();
}

/** A fixture file in the opened workspace folder (a copy of test/fixtures/vscode). */
export function fixture(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Polls until `check` returns a truthy value or the time is up. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Opens a file in an editor. */
export async function openFixture(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(fixture(name));
  return vscode.window.showTextDocument(doc);
}
