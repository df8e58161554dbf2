/**
 * Code lenses above each profiled function: self ms, total ms and ncalls from the last run
 * that touched the file, merged over threads, plus one lens per thread where they differ.
 */
import * as vscode from 'vscode';
import type { FunctionRow, Report } from '../protocol/report';
import { getSetting, settingId } from './config';
import { reportFileUri } from './sourceLinks';

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const calls = (n: number) => `${n.toLocaleString('en-US')} call${n === 1 ? '' : 's'}`;

/** Formats one row's figures for a lens title (no call count when counters did not run). */
export function lensText(row: Pick<FunctionRow, 'tottimeMs' | 'cumtimeMs' | 'ncalls'>): string {
  return `self ${ms(row.tottimeMs)} ms · total ${ms(row.cumtimeMs)} ms${row.ncalls === null ? '' : ` · ${calls(row.ncalls)}`}`;
}

/** The short per-thread variant, e.g. "worker 2: 8,361 calls · 2.18 ms self". */
export function threadLensText(thread: string, row: Pick<FunctionRow, 'tottimeMs' | 'ncalls'>): string {
  return `${thread}: ${row.ncalls === null ? '' : `${calls(row.ncalls)} · `}${ms(row.tottimeMs)} ms self`;
}

/** The module's top-level code: V8 reports it as an anonymous function at 1:1 without a count. */
function isModuleTop(row: FunctionRow): boolean {
  return row.line === 1 && row.column === 1 && row.ncalls === null;
}

const MAX_THREAD_LENSES = 4;

/** Internal command behind every lens: reveal the run's panel at that function. */
export const SHOW_FUNCTION_COMMAND = 'parallelProfiler.showFunctionInPanel';

interface FunctionLens {
  line: number;
  column: number;
  name: string;
  merged: FunctionRow;
  perThread: FunctionRow[];
}

/** Groups a report's rows for one file by function position. */
export function functionsInFile(report: Report, uri: vscode.Uri): FunctionLens[] {
  const key = uri.toString();
  const groups = new Map<string, FunctionLens>();
  const cwd = report.program.cwd;
  for (const row of report.functions) {
    if (row.line < 1 || !row.file || reportFileUri(row.file, cwd).toString() !== key) continue;
    const k = `${row.line}:${row.column}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { line: row.line, column: row.column, name: row.name, merged: row, perThread: [] }));
    if (row.threadId === -1) g.merged = row;
    else g.perThread.push(row);
  }
  for (const g of groups.values()) {
    // Without a merged row (single thread or an older core), the thread row stands for it.
    if (g.merged.threadId !== -1 && g.perThread.length > 1) {
      const sum = (f: (r: FunctionRow) => number | null) =>
        g.perThread.reduce<number | null>((a, r) => (a === null || f(r) === null ? null : a + (f(r) as number)), 0);
      g.merged = {
        ...g.merged,
        threadId: -1,
        tottimeMs: sum((r) => r.tottimeMs) ?? 0,
        cumtimeMs: sum((r) => r.cumtimeMs) ?? 0,
        ncalls: sum((r) => r.ncalls),
      };
    }
  }
  return [...groups.values()].sort((a, b) => a.line - b.line);
}

/** Provides the lenses; `update` after each run. */
export class ProfileCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private report: Report | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(settingId('codeLens.enabled'))) this.changed.fire();
  });

  constructor(private readonly threadName: (report: Report, id: number) => string) {}

  /** Shows the lenses of a new run. */
  update(report: Report): void {
    this.report = report;
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.report || !getSetting('codeLens.enabled', document.uri)) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const f of functionsInFile(this.report, document.uri)) {
      if (f.line > document.lineCount) continue;
      const range = new vscode.Range(f.line - 1, 0, f.line - 1, 0);
      const show = (threadId?: number) => ({ command: SHOW_FUNCTION_COMMAND, arguments: [f.merged.file, f.line, threadId] });
      if (isModuleTop(f.merged)) {
        const threads = f.perThread.length > 1 ? ` in ${f.perThread.length} threads` : '';
        lenses.push(
          new vscode.CodeLens(range, { title: `$(pulse) module top level: total ${ms(f.merged.cumtimeMs)} ms${threads}`, ...show() }),
        );
        continue;
      }
      const threads = f.perThread.length > 1 ? ` (${f.perThread.length} threads)` : '';
      const tooltip = `${f.name}: self time, total time and exact calls in the last Parallel Profiler run`;
      lenses.push(new vscode.CodeLens(range, { title: `$(pulse) ${lensText(f.merged)}${threads}`, tooltip, ...show() }));
      const distinct = new Set(f.perThread.map((r) => `${r.ncalls}|${ms(r.tottimeMs)}`));
      if (f.perThread.length > 1 && distinct.size > 1) {
        const rows = [...f.perThread].sort((a, b) => b.tottimeMs - a.tottimeMs);
        for (const r of rows.slice(0, MAX_THREAD_LENSES)) {
          lenses.push(
            new vscode.CodeLens(range, { title: threadLensText(this.threadName(this.report, r.threadId), r), ...show(r.threadId) }),
          );
        }
        if (rows.length > MAX_THREAD_LENSES)
          lenses.push(new vscode.CodeLens(range, { title: `+${rows.length - MAX_THREAD_LENSES} more threads`, ...show() }));
      }
    }
    return lenses;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
