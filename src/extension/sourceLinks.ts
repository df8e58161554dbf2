/** Turning report file references (paths or file:// URLs, 1-based positions) into editors. */
import { isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';

/** The URI of a file as the report names it (absolute path, file:// URL, or relative to cwd). */
export function reportFileUri(file: string, cwd?: string): vscode.Uri {
  if (/^file:\/\//i.test(file)) return vscode.Uri.parse(file);
  return vscode.Uri.file(isAbsolute(file) || !cwd ? file : resolve(cwd, file));
}

/** Opens the file at a 1-based line and column in the first editor column. */
export async function openSourceLocation(file: string, line: number, column: number, cwd?: string): Promise<void> {
  const uri = reportFileUri(file, cwd);
  const pos = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
  await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos), preview: true });
}
