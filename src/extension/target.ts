/** Choosing and preparing the file to run: supported type, workspace trust, saved to disk. */
import { extname } from 'node:path';
import * as vscode from 'vscode';

/** File extensions the profiler runs (package.json `when` clauses list the same). */
export const PROFILABLE_EXTENSIONS: readonly string[] = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** The message shown when a command is invoked in an untrusted workspace. */
export const UNTRUSTED_MESSAGE =
  'Parallel Profiler runs your program, so it is disabled in untrusted workspaces. Trust this workspace to profile.';

/** Resolves the file a command should run, or tells the user why not and returns undefined. */
export async function prepareTarget(uri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
  if (!vscode.workspace.isTrusted) {
    const pick = await vscode.window.showErrorMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust');
    if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target) {
    void vscode.window.showErrorMessage('Parallel Profiler: open a JavaScript or TypeScript file to profile it.');
    return undefined;
  }
  if (target.scheme !== 'file') {
    void vscode.window.showErrorMessage(
      `Parallel Profiler can only run files on disk, not ${target.scheme}: documents. Save the file first.`,
    );
    return undefined;
  }
  if (!PROFILABLE_EXTENSIONS.includes(extname(target.fsPath).toLowerCase())) {
    void vscode.window.showErrorMessage(
      `Parallel Profiler runs ${PROFILABLE_EXTENSIONS.join(' ')} files; ${extname(target.fsPath) || 'this file'} is not one of them.`,
    );
    return undefined;
  }
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
  if (doc?.isDirty && !(await doc.save())) {
    void vscode.window.showErrorMessage('Parallel Profiler: the file could not be saved, so it was not run.');
    return undefined;
  }
  return target;
}
