/**
 * "Profile in Parallel": runs the file through the core with the program's output streamed to
 * an Output channel and a cancellable progress notification, then opens the panel, refreshes
 * code lenses and run findings, and remembers the run.
 */
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import type { ProfileCodeLensProvider } from './codeLens';
import { profileProgram, UserError } from './core';
import { showRunFindings, type DiagnosticsHub } from './diagnostics';
import { RecentRuns, reportSummary, type RecentRun } from './history';
import { ProfilePanel, type PanelContent } from './panel';
import { profileOptionsFor, runDirName } from './runOptions';
import { prepareTarget } from './target';

/** What the last finished run produced (also what the test API exposes). */
export interface RunOutcome {
  report: Report;
  outDir: string;
  startedAt: Date;
  panel: ProfilePanel;
  findings: number;
}

/** Shared state of the host: output channel, runs in flight, last run, history. */
export class ProfilerHost {
  readonly output = vscode.window.createOutputChannel('Parallel Profiler');
  readonly running = new Set<AbortController>();
  private readonly started = new vscode.EventEmitter<{ file: string }>();
  readonly onDidStartRun = this.started.event;
  lastRun: RunOutcome | undefined;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly runsRoot: string,
    readonly history: RecentRuns,
    readonly lenses: ProfileCodeLensProvider,
    readonly diagnostics: DiagnosticsHub,
  ) {}

  log(message: string): void {
    this.output.appendLine(`[parprof ${new Date().toLocaleTimeString('en-GB', { hour12: false })}] ${message}`);
  }

  /** Cancels every run in flight; returns how many there were. */
  cancelAll(): number {
    const n = this.running.size;
    for (const c of this.running) c.abort();
    return n;
  }

  /** Opens a panel and tells lenses and diagnostics about a report. */
  showReport(report: Report, outDir: string, startedAt: Date): RunOutcome {
    this.lenses.update(report);
    const findings = showRunFindings(this.diagnostics, report, startedAt);
    const content: PanelContent = { kind: 'report', report, outDir, startedAt };
    const panel = ProfilePanel.open(this.context.extensionUri, content, { log: (m) => this.log(m), openRunDir: (d) => this.openRunDir(d) });
    this.lastRun = { report, outDir, startedAt, panel, findings };
    return this.lastRun;
  }

  /** Opens a remembered run (history or a scaling point). */
  async openRecent(run: RecentRun): Promise<void> {
    const data = await RecentRuns.load(run);
    const startedAt = new Date(run.startedAt);
    if (data.kind === 'report') this.showReport(data.report, run.outDir, startedAt);
    else
      ProfilePanel.open(
        this.context.extensionUri,
        { kind: 'scaling', scaling: data.scaling, startedAt },
        { log: (m) => this.log(m), openRunDir: (d) => this.openRunDir(d) },
      );
  }

  /** Opens the full profile stored in a run directory. */
  async openRunDir(outDir: string): Promise<void> {
    await this.openRecent({ kind: 'report', file: '', startedAt: new Date().toISOString(), outDir, summary: '' });
  }

  /** The command: profile one file. Resolves to the outcome, or undefined when nothing ran. */
  async profile(uri: vscode.Uri | undefined): Promise<RunOutcome | undefined> {
    const target = await prepareTarget(uri);
    if (!target) return undefined;
    const startedAt = new Date();
    const outDir = join(this.runsRoot, runDirName(target.fsPath, startedAt));
    const opts = profileOptionsFor(target, outDir);
    const name = basename(target.fsPath);
    const abort = new AbortController();
    this.running.add(abort);
    this.output.show(true);
    this.log(`profiling ${target.fsPath} ${opts.args.join(' ')} (cwd ${opts.cwd})`);
    this.started.fire({ file: target.fsPath });
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Profiling ${name}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          return profileProgram({
            ...opts,
            signal: abort.signal,
            onStdout: (c) => this.output.append(c.toString()),
            onStderr: (c) => this.output.append(c.toString()),
            onProgress: (message) => progress.report({ message }),
          });
        },
      );
      const { report } = result;
      this.log(`${name}: ${report.program.outcome}, ${reportSummary(report)} → ${result.outDir}`);
      const outcome = this.showReport(report, result.outDir, startedAt);
      await this.history.add({
        kind: 'report',
        file: target.fsPath,
        startedAt: startedAt.toISOString(),
        outDir: result.outDir,
        summary: reportSummary(report),
      });
      if (abort.signal.aborted)
        void vscode.window.showInformationMessage(`Profiling of ${name} was cancelled; the panel shows the partial report.`);
      else if (report.program.error)
        void vscode.window.showWarningMessage(`${name}: ${report.program.error} The panel shows what was recorded.`);
      return outcome;
    } catch (e) {
      const message = e instanceof UserError ? e.message : `profiling failed: ${(e as Error).message}`;
      this.log(e instanceof UserError ? message : String((e as Error).stack ?? e));
      void vscode.window.showErrorMessage(`Parallel Profiler: ${message}`);
      return undefined;
    } finally {
      this.running.delete(abort);
    }
  }

  dispose(): void {
    this.cancelAll();
    this.output.dispose();
    this.started.dispose();
  }
}
