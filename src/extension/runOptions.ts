/** ProfileOptions built from the `parallelProfiler.*` settings for one file. */
import { dirname, isAbsolute, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { ProfileOptions } from '../core/api';
import { getSetting } from './config';

/** Working directory: the setting (relative to the workspace folder), else the folder, else the file's dir. */
export function runCwd(file: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath;
  const base = folder ?? dirname(file.fsPath);
  const setting = getSetting('cwd', file).replace(/\$\{workspaceFolder\}/g, base);
  return setting ? (isAbsolute(setting) ? setting : resolve(base, setting)) : base;
}

/** The options for profiling `file` (without signal/callbacks), from settings. */
export function profileOptionsFor(file: vscode.Uri, outDir: string): ProfileOptions {
  const timeout = getSetting('timeout', file);
  const nodePath = getSetting('nodePath', file);
  return {
    file: file.fsPath,
    args: getSetting('args', file),
    cwd: runCwd(file),
    node: nodePath || undefined,
    outDir,
    env: getSetting('env', file),
    sampleIntervalUs: Math.max(50, getSetting('sampleInterval', file)),
    counts: true,
    races: getSetting('raceDetection', file),
    instrumentDeps: getSetting('instrumentDeps', file),
    locks: true,
    timeoutSec: timeout > 0 ? timeout : null,
    deadlockTimeoutMs: Math.max(0, getSetting('deadlockTimeout', file)),
  };
}

/** A directory name for a run: time stamp plus file name, sortable. */
export function runDirName(file: string, at: Date): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const base =
    file
      .split(/[\\/]/)
      .pop()
      ?.replace(/[^\w.-]/g, '_') ?? 'program';
  return `${stamp}-${base}`;
}
