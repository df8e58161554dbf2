/**
 * Entry point of the VS Code extension: wires commands, the panel, code lenses, the shared
 * diagnostics collection (run findings + the Atomics lint) and the run history. Returns a
 * small API that the real-VS-Code test suite uses to see what a run produced.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import { ProfileCodeLensProvider, SHOW_FUNCTION_COMMAND } from './codeLens';
import { Command, registerCommands } from './commands';
import { DiagnosticsHub } from './diagnostics';
import { exportRunFile } from './exports';
import { RecentRuns } from './history';
import { registerLint } from './lintBridge';
import { ProfilePanel } from './panel';
import { ProfilerHost } from './profiler';
import { profileScaling } from './scaling';
import type { ExportFormat } from '../protocol/messages';

/** What the extension exports (used by test/vscode/). */
export interface ParallelProfilerApi {
  /** The last finished "Profile in Parallel" run, if any. */
  lastRun(): { report: Report; outDir: string; panelTitle: string; threadCount: number; findings: number } | undefined;
  /** Panels currently open. */
  panels(): { title: string; kind: 'report' | 'scaling'; threadCount: number | null; ready: boolean; visible: boolean }[];
  /** Same as pressing Cancel on every running profile; returns how many were cancelled. */
  cancelAll(): number;
  /** Fires when a run has started (the program is about to be spawned). */
  onDidStartRun: vscode.Event<{ file: string }>;
  /** The shared 'parallel-profiler' diagnostics. */
  diagnostics: DiagnosticsHub;
  /** Whether this build has the Atomics lint and it started. */
  lintAvailable: boolean;
}

let host: ProfilerHost | undefined;

function threadName(report: Report, id: number): string {
  const t = report.threads.find((x) => x.id === id);
  return t ? (t.kind === 'main' ? 'main' : t.name || `thread ${id}`) : `thread ${id}`;
}

/** The run an export command acts on: the focused report panel, else the last run. */
function activeRun(): { report: Report; outDir: string; thread: number | null } | undefined {
  const panel = ProfilePanel.all().find((p) => p.panel.active && p.content.kind === 'report');
  if (panel?.content.kind === 'report') return { report: panel.content.report, outDir: panel.content.outDir, thread: panel.selectedThread };
  return host?.lastRun ? { report: host.lastRun.report, outDir: host.lastRun.outDir, thread: null } : undefined;
}

async function exportActive(format: ExportFormat): Promise<void> {
  const run = activeRun();
  if (!run) {
    void vscode.window.showInformationMessage('Parallel Profiler: profile a program first; exports take the shown run.');
    return;
  }
  try {
    await exportRunFile(run.outDir, run.report, format, run.thread);
  } catch (e) {
    void vscode.window.showErrorMessage(`Parallel Profiler: export failed: ${(e as Error).message}`);
  }
}

/** Activates the extension. */
export function activate(context: vscode.ExtensionContext): ParallelProfilerApi {
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const runsRoot = join(storage, 'runs');
  mkdirSync(runsRoot, { recursive: true });
  const diagnostics = new DiagnosticsHub();
  const lenses = new ProfileCodeLensProvider(threadName);
  const h = (host = new ProfilerHost(context, runsRoot, new RecentRuns(context.workspaceState, runsRoot), lenses, diagnostics));
  context.subscriptions.push(diagnostics, lenses, h);
  context.subscriptions.push(
    vscode.languages.registerCodeLensProvider(
      ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'].map((language) => ({ language, scheme: 'file' })),
      lenses,
    ),
  );

  registerCommands(context, {
    [Command.ProfileInParallel]: (uri) => h.profile(uri),
    [Command.ProfileScaling]: (uri, preset) => profileScaling(h, uri, preset),
    [Command.ShowRecentProfiles]: async () => {
      const runs = h.history.list();
      if (!runs.length) return void vscode.window.showInformationMessage('Parallel Profiler: no runs yet in this workspace.');
      const pick = await vscode.window.showQuickPick(
        runs.map((r) => ({
          label: `${r.kind === 'scaling' ? '$(graph-line)' : '$(pulse)'} ${basename(r.file)}`,
          description: new Date(r.startedAt).toLocaleString(),
          detail: r.summary,
          run: r,
        })),
        { title: 'Recent profiles', matchOnDetail: true },
      );
      if (pick) await h.openRecent(pick.run).catch((e: Error) => vscode.window.showErrorMessage(`Parallel Profiler: ${e.message}`));
    },
    [Command.ExportChromeTrace]: () => exportActive('chrome'),
    [Command.ExportCpuProfile]: () => exportActive('cpuprofile'),
    [Command.ExportPstats]: () => exportActive('pstats'),
    [Command.ExportReportJson]: () => exportActive('json'),
    [Command.ClearRunFindings]: () => diagnostics.clear('run'),
  });

  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_FUNCTION_COMMAND, (file: unknown, line: unknown, threadId: unknown) => {
      const panel = h.lastRun?.panel;
      if (!panel || !ProfilePanel.all().includes(panel) || typeof file !== 'string' || typeof line !== 'number') return;
      panel.panel.reveal(undefined, true);
      void panel.post({ type: 'showFunction', file, line, threadId: typeof threadId === 'number' ? threadId : undefined });
    }),
  );

  const lintAvailable = registerLint(context, diagnostics, (m) => h.log(m));

  return {
    lastRun: () => {
      const r = h.lastRun;
      return (
        r && { report: r.report, outDir: r.outDir, panelTitle: r.panel.title, threadCount: r.report.threads.length, findings: r.findings }
      );
    },
    panels: () =>
      ProfilePanel.all().map((p) => ({
        title: p.title,
        kind: p.content.kind,
        threadCount: p.content.kind === 'report' ? p.content.report.threads.length : null,
        ready: p.ready,
        visible: p.panel.visible,
      })),
    cancelAll: () => h.cancelAll(),
    onDidStartRun: h.onDidStartRun,
    diagnostics,
    lintAvailable,
  };
}

/** Nothing to do: subscriptions dispose everything, and runs in flight are cancelled. */
export function deactivate(): void {
  host?.cancelAll();
  host = undefined;
}
