/**
 * Recent runs, kept in the workspace state so "Show Recent Profiles" can reopen a panel
 * after a restart: each entry points at the run's output directory (report.json or
 * scaling.json), never at a copy of the data.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import type { ScalingResult } from '../protocol/scaling';

/** File written next to a scaling experiment's runs. */
export const SCALING_FILE = 'scaling.json';

/** One remembered run. */
export interface RecentRun {
  kind: 'report' | 'scaling';
  file: string;
  /** ISO time the run started. */
  startedAt: string;
  outDir: string;
  /** One line for the quick pick, e.g. "4 threads · 812 ms · 1 race". */
  summary: string;
}

const KEY = 'parallelProfiler.recentRuns';
const MAX = 20;

/** The run history of this workspace. */
export class RecentRuns {
  constructor(
    private readonly state: vscode.Memento,
    /** Output directories under this root are ours to delete when they fall off the list. */
    private readonly ownedRoot: string,
  ) {}

  list(): RecentRun[] {
    const v = this.state.get<unknown>(KEY);
    return Array.isArray(v) ? (v as RecentRun[]).filter((r) => r && typeof r.outDir === 'string') : [];
  }

  async add(run: RecentRun): Promise<void> {
    const all = [run, ...this.list().filter((r) => r.outDir !== run.outDir)];
    const dropped = all.slice(MAX);
    await this.state.update(KEY, all.slice(0, MAX));
    for (const d of dropped) if (d.outDir.startsWith(this.ownedRoot)) await rm(d.outDir, { recursive: true, force: true }).catch(() => {});
  }

  /** Loads a remembered run's data from disk. */
  static async load(run: RecentRun): Promise<{ kind: 'report'; report: Report } | { kind: 'scaling'; scaling: ScalingResult }> {
    const file = join(run.outDir, run.kind === 'report' ? 'report.json' : SCALING_FILE);
    if (!existsSync(file)) throw new Error(`the files of this run are gone (${file})`);
    const data: unknown = JSON.parse(await readFile(file, 'utf8'));
    return run.kind === 'report' ? { kind: 'report', report: data as Report } : { kind: 'scaling', scaling: data as ScalingResult };
  }
}

/** The quick-pick line for a report. */
export function reportSummary(report: Report): string {
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  const parts = [n(report.threads.length, 'thread'), `${report.wallMs.toFixed(0)} ms`];
  if (report.races.length) parts.push(n(report.races.length, 'race'));
  if (report.deadlocks.length) parts.push(n(report.deadlocks.length, 'deadlock'));
  if (report.partial) parts.push('partial');
  return parts.join(' · ');
}
