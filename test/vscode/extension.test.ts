/**
 * The extension in a real VS Code: commands, panel, code lenses, cancel, run findings and the
 * scaling command, driven through the real `vscode` API on programs from test/fixtures/vscode.
 */
import * as assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ScalingResult } from '../../src/protocol/scaling';
import { EXTENSION_ID, fixture, getApi, openFixture, waitFor } from './helpers';

/** True while the process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; a killed but unreaped process shows Z.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('Parallel Profiler in VS Code', () => {
  it('registers every command it contributes', async () => {
    await getApi();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.ok(contributed.length >= 7);
    for (const id of contributed) assert.ok(registered.has(id), `${id} is registered`);
  });

  it('declares that it needs a trusted workspace', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.packageJSON.capabilities.untrustedWorkspaces.supported, false);
  });

  it('opens a panel with one lane per thread after "Profile in Parallel" on a worker program', async () => {
    const api = await getApi();
    await openFixture('threads.js');
    const before = api.panels().length;
    const outcome = await vscode.commands.executeCommand<{ report: { threads: unknown[] } } | undefined>(
      'parallelProfiler.profile',
      fixture('threads.js'),
    );
    assert.ok(outcome, 'the command returned a run');
    const last = api.lastRun();
    assert.ok(last);
    assert.equal(last.threadCount, 4, 'main thread + 3 workers');
    assert.equal(last.report.program.outcome, 'exited');
    const panels = api.panels();
    assert.equal(panels.length, before + 1, 'one new panel');
    const panel = panels[panels.length - 1]!;
    assert.equal(panel.kind, 'report');
    assert.equal(panel.threadCount, 4);
    assert.match(panel.title, /^threads\.js · \d\d:\d\d:\d\d$/);
    assert.ok(existsSync(join(last.outDir, 'report.json')), 'report.json written');
    // The webview bundle read the injected report and told the host it has drawn.
    await waitFor('the panel to render', () => api.panels().find((p) => p.title === panel.title)?.ready, 60_000);
  });

  it('shows code lenses with the exact call counts of the last run', async () => {
    const api = await getApi();
    const editor = await openFixture('fib.js');
    await vscode.commands.executeCommand('parallelProfiler.profile', editor.document.uri);
    const fibRow = api.lastRun()!.report.functions.find((f) => f.name === 'fib' && f.threadId !== -1);
    assert.ok(fibRow, 'fib has a row');
    assert.equal(fibRow.ncalls, 31 * 21891, 'fib(20) makes 21891 calls, 31 times');
    const lenses = await waitFor('code lenses on fib.js', async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100);
      const ours = (l ?? []).filter((x) => x.command?.title.includes('self'));
      return ours.length >= 2 ? ours : undefined;
    });
    const onFib = lenses.find((l) => l.range.start.line === 1);
    assert.ok(onFib, 'a lens above function fib (line 2)');
    assert.match(onFib.command!.title, /self [\d.]+ ms · total [\d.]+ ms · 678,621 calls/);
    const onWork = lenses.find((l) => l.range.start.line === 6);
    assert.ok(onWork, 'a lens above function work (line 7)');
    assert.match(onWork.command!.title, / 1 call\b/);

    await vscode.workspace.getConfiguration('parallelProfiler').update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    try {
      const off = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100);
      assert.equal((off ?? []).filter((x) => x.command?.title.includes('self')).length, 0, 'no lenses when turned off');
    } finally {
      await vscode.workspace.getConfiguration('parallelProfiler').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('cancel ends the whole process tree and still opens the partial report', async () => {
    const api = await getApi();
    const pidFile = fixture('spin.pids').fsPath;
    rmSync(pidFile, { force: true });
    const running = vscode.commands.executeCommand<
      { report: { partial: boolean; threads: unknown[]; program: { outcome: string } } } | undefined
    >('parallelProfiler.profile', fixture('spin.js'));
    const [mainPid, childPid] = await waitFor('spin.js to write its pids', () => {
      // The file may be caught between its creation and its write: wait for both numbers.
      const pids = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split(' ').map(Number) : [];
      return pids.length === 2 && pids.every((p) => p > 0) ? pids : undefined;
    });
    assert.ok(mainPid && childPid);
    await new Promise((r) => setTimeout(r, 1500)); // let the workers start and sample
    const cancelledAt = Date.now();
    assert.equal(api.cancelAll(), 1, 'one run was in flight');
    // How long until the whole tree (main process and forked child) is gone: logged, not asserted
    // (tests never assert on wall-clock time; the core's own tests own the one-second budget).
    const gone = waitFor('the profiled processes to be gone', () => !alive(mainPid) && !alive(childPid), 10_000, 20).then(
      () => Date.now() - cancelledAt,
    );
    const outcome = await running;
    const tookMs = Date.now() - cancelledAt;
    console.log(`      cancel → process tree gone in ${await gone} ms, partial report in ${tookMs} ms`);
    assert.ok(outcome, 'a partial report was produced');
    assert.equal(outcome.report.program.outcome, 'cancelled');
    assert.ok(outcome.report.threads.length >= 1);
    assert.ok(!alive(mainPid) && !alive(childPid), 'no profiled process is left');
    assert.ok(
      api.panels().some((p) => p.title.startsWith('spin.js')),
      'the partial report opened in a panel',
    );
  });

  it('marks races from the last run in the Problems panel at both lines', async () => {
    const api = await getApi();
    const uri = fixture('racy.js');
    await vscode.commands.executeCommand('parallelProfiler.profile', uri);
    const report = api.lastRun()!.report;
    assert.ok(report.races.length >= 1, 'the race was detected');
    const diags = await waitFor('race diagnostics', () => vscode.languages.getDiagnostics(uri).filter((d) => d.code === 'race'));
    assert.ok(diags.every((d) => /from run at \d\d:\d\d/.test(d.message)));
    assert.ok(
      diags.some((d) => d.range.start.line === 8),
      'on the racy increment (line 9)',
    );
    assert.ok(diags[0]!.relatedInformation?.length, 'points at the other side of the race');
  });

  it('"Profile Scaling…" runs each worker count and opens a scaling panel', async () => {
    const api = await getApi();
    const before = api.panels().length;
    const result = await vscode.commands.executeCommand<ScalingResult | undefined>('parallelProfiler.profileScaling', fixture('scale.js'), {
      workers: [1, 2],
      variable: { mode: 'env', name: 'WORKERS' },
      repeat: 1,
    });
    assert.ok(result, 'a scaling result');
    assert.deepEqual(
      result.rows.map((r) => r.workers),
      [1, 2],
    );
    assert.equal(result.rows[0]!.speedup, 1);
    const panels = api.panels();
    assert.equal(panels.length, before + 1);
    assert.equal(panels[panels.length - 1]!.kind, 'scaling');
    const title = panels[panels.length - 1]!.title;
    assert.match(title, /^Scaling: scale\.js · /);
    await waitFor('the scaling panel to render', () => api.panels().find((p) => p.title === title)?.ready, 60_000);
  });

  it('lists the runs under "Show Recent Profiles"', async () => {
    await getApi();
    const shown = vscode.commands.executeCommand('parallelProfiler.showRecent');
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await shown;
  });
});
