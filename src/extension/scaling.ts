/**
 * "Profile Scaling…": asks for worker counts and how the count reaches the program, runs the
 * core's scaling lab with progress per run and Cancel, then opens the scaling panel (whose
 * points open each count's full profile).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { ScalingResult, WorkerVariable } from '../protocol/scaling';
import { defaultWorkerCounts, runScaling, UserError } from './core';
import { SCALING_FILE } from './history';
import { ProfilePanel } from './panel';
import type { ProfilerHost } from './profiler';
import { profileOptionsFor, runDirName } from './runOptions';
import { prepareTarget } from './target';

/** Answers the command can be given instead of asking (tests, keybindings). */
export interface ScalingPreset {
  workers?: number[];
  variable?: WorkerVariable;
  repeat?: number;
}

/** Parses "1,2,4" into ascending distinct positive counts, or returns why not. */
export function parseWorkerCounts(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const nums = parts.map(Number);
  if (!parts.length || nums.some((n) => !Number.isInteger(n) || n < 1 || n > 1024))
    return 'Give whole numbers from 1 to 1024, separated by commas, e.g. 1,2,4.';
  return [...new Set(nums)].sort((a, b) => a - b);
}

/** "WORKERS" → env variable; "--threads={n}" → argument template; else why not. */
export function parseWorkerVariable(text: string): WorkerVariable | string {
  const t = text.trim();
  if (t.includes('{n}')) return { mode: 'arg', template: t };
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return { mode: 'env', name: t };
  return 'Give an environment variable name (e.g. WORKERS) or an argument template containing {n} (e.g. --threads={n}).';
}

async function ask(preset: ScalingPreset): Promise<Required<ScalingPreset> | undefined> {
  let workers = preset.workers;
  if (!workers) {
    const text = await vscode.window.showInputBox({
      title: 'Profile Scaling (1/2): worker counts',
      prompt: `Worker counts to run, comma-separated (this machine has ${availableParallelism()} cores)`,
      value: defaultWorkerCounts().join(','),
      validateInput: (v) => (typeof parseWorkerCounts(v) === 'string' ? (parseWorkerCounts(v) as string) : undefined),
    });
    if (text === undefined) return undefined;
    workers = parseWorkerCounts(text) as number[];
  }
  let variable = preset.variable;
  if (!variable) {
    const text = await vscode.window.showInputBox({
      title: 'Profile Scaling (2/2): how the count reaches the program',
      prompt: 'An environment variable name (WORKERS) or an argument template with {n} (--threads={n})',
      value: 'WORKERS',
      validateInput: (v) => (typeof parseWorkerVariable(v) === 'string' ? (parseWorkerVariable(v) as string) : undefined),
    });
    if (text === undefined) return undefined;
    variable = parseWorkerVariable(text) as WorkerVariable;
  }
  return { workers, variable, repeat: preset.repeat ?? 3 };
}

/** The command. Resolves to the result, or undefined when nothing ran. */
export async function profileScaling(
  host: ProfilerHost,
  uri: vscode.Uri | undefined,
  preset: ScalingPreset = {},
): Promise<ScalingResult | undefined> {
  const target = await prepareTarget(uri);
  if (!target) return undefined;
  const answers = await ask(preset);
  if (!answers) return undefined;
  const startedAt = new Date();
  const outDir = join(host.runsRoot, `scale-${runDirName(target.fsPath, startedAt)}`);
  const base = profileOptionsFor(target, outDir);
  const name = basename(target.fsPath);
  const abort = new AbortController();
  host.running.add(abort);
  host.log(
    `scaling ${target.fsPath} at ${answers.workers.join(', ')} workers via ${answers.variable.mode === 'env' ? `$${answers.variable.name}` : answers.variable.template}`,
  );
  try {
    const scaling = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Scaling ${name}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => abort.abort());
        return runScaling({
          file: base.file,
          args: base.args,
          cwd: base.cwd,
          node: base.node,
          workers: answers.workers,
          variable: answers.variable,
          repeat: answers.repeat,
          profile: true,
          outDir,
          timeoutSec: base.timeoutSec,
          signal: abort.signal,
          onStderr: (c) => host.output.append(c.toString()),
          onProgress: (p) => {
            host.log(p.message);
            progress.report({
              message: `run ${p.index}/${p.total}: ${p.workers} worker${p.workers === 1 ? '' : 's'}${p.profiled ? ' (profiled)' : ''}`,
              increment: 100 / p.total,
            });
          },
        });
      },
    );
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, SCALING_FILE), JSON.stringify(scaling));
    const fit = scaling.serialFraction ? `, serial fraction ${(scaling.serialFraction.value * 100).toFixed(1)}%` : '';
    await host.history.add({
      kind: 'scaling',
      file: target.fsPath,
      startedAt: startedAt.toISOString(),
      outDir,
      summary: `scaling ${answers.workers.join('/')} workers${fit}`,
    });
    ProfilePanel.open(
      host.context.extensionUri,
      { kind: 'scaling', scaling, startedAt },
      { log: (m) => host.log(m), openRunDir: (d) => host.openRunDir(d) },
    );
    for (const w of scaling.warnings) host.log(`scaling: ${w}`);
    if (scaling.cancelled)
      void vscode.window.showInformationMessage(`Scaling of ${name} was cancelled; the panel shows the counts that finished.`);
    return scaling;
  } catch (e) {
    const message = e instanceof UserError ? e.message : `scaling failed: ${(e as Error).message}`;
    host.log(String((e as Error).stack ?? e));
    void vscode.window.showErrorMessage(`Parallel Profiler: ${message}`);
    return undefined;
  } finally {
    host.running.delete(abort);
  }
}
