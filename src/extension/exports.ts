/**
 * Exports of a run: the core already wrote report.json, trace.json (Chrome trace events),
 * pstats.txt and one .cpuprofile per thread into the run's output directory, so an export
 * copies the file the user picks to where they want it, then opens it (a .cpuprofile opens
 * in VS Code's built-in profile viewer).
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import type { ExportFormat } from '../protocol/messages';

const fileFor: Record<Exclude<ExportFormat, 'cpuprofile'>, { name: string; filter: Record<string, string[]> }> = {
  chrome: { name: 'trace.json', filter: { 'Chrome trace (Perfetto)': ['json'] } },
  pstats: { name: 'pstats.txt', filter: { 'pstats text': ['txt'] } },
  json: { name: 'report.json', filter: { 'Parallel Profiler report': ['json'] } },
};

/** The .cpuprofile files of a run, for the thread asked for (or all when threadId is null). */
export async function cpuProfilesIn(outDir: string, report: Report, threadId: number | null): Promise<string[]> {
  const all = (await readdir(outDir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (threadId === null) return all.map((f) => join(outDir, f));
  // The core names them thread-<id>-<name>.cpuprofile.
  const keys = [`thread-${threadId}-`, `thread-${threadId}.`];
  const match = all.filter((f) => keys.some((k) => f.includes(k)));
  return (match.length ? match : all).map((f) => join(outDir, f));
}

/** Asks where to save, writes the file, opens it. Returns the saved URI or undefined if dismissed. */
export async function exportRunFile(
  outDir: string,
  report: Report,
  format: ExportFormat,
  threadId: number | null,
): Promise<vscode.Uri | undefined> {
  let source: string | undefined;
  let filters: Record<string, string[]>;
  if (format === 'cpuprofile') {
    const files = await cpuProfilesIn(outDir, report, threadId);
    if (!files.length) throw new Error('this run has no .cpuprofile (no CPU samples were recorded)');
    source =
      files.length === 1
        ? files[0]
        : (
            await vscode.window.showQuickPick(
              files.map((f) => ({ label: basename(f), f })),
              { title: 'Which thread’s CPU profile?' },
            )
          )?.f;
    if (!source) return undefined;
    filters = { 'V8 CPU profile': ['cpuprofile'] };
  } else {
    const spec = fileFor[format];
    source = join(outDir, spec.name);
    filters = spec.filter;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const suggested = basename(source);
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, suggested) : vscode.Uri.file(join(outDir, suggested)),
    filters,
    title: 'Export profile',
  });
  if (!target) return undefined;
  if (existsSync(source)) await copyFile(source, target.fsPath);
  else if (format === 'json') await writeFile(target.fsPath, JSON.stringify(report, null, 1));
  else throw new Error(`the run directory has no ${basename(source)}`);
  await openExport(target, format);
  return target;
}

/** Opens an exported file the way its format is best viewed. */
export async function openExport(uri: vscode.Uri, format: ExportFormat): Promise<void> {
  if (format === 'cpuprofile') {
    await vscode.commands.executeCommand('vscode.open', uri);
  } else if (format === 'chrome') {
    const pick = await vscode.window.showInformationMessage(
      `Saved ${basename(uri.fsPath)}: open it in Perfetto or chrome://tracing.`,
      'Reveal',
    );
    if (pick === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', uri);
  } else {
    await vscode.window.showTextDocument(uri, { preview: true });
  }
}
