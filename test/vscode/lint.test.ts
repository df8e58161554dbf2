/** The Atomics lint (src/extension/lint/) shows its findings in the shared collection. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, openFixture, waitFor } from './helpers';

describe('Atomics lint in VS Code', () => {
  it('flags a plain read-modify-write of a shared element, beside run findings', async function () {
    const api = await getApi();
    if (!api.lintAvailable) this.skip();
    const editor = await openFixture('atomics-lint.js');
    const uri = editor.document.uri;
    const lint = await waitFor('Atomics lint diagnostics', () => {
      const d = api.diagnostics.get('lint', uri);
      return d.length ? d : undefined;
    });
    assert.ok(
      lint.some((d) => d.range.start.line === 5),
      'on counter[0]++ (line 6)',
    );
    const shown = vscode.languages.getDiagnostics(uri);
    for (const d of lint) assert.ok(shown.includes(d) || shown.some((s) => s.message === d.message), 'visible in the Problems panel');
  });

  it('offers the core quick fix Atomics.add for a[i]++ and applying it removes the finding', async function () {
    const api = await getApi();
    if (!api.lintAvailable) this.skip();
    const content = "const { workerData } = require('node:worker_threads');\nconst c = new Int32Array(workerData);\nc[0]++;\n";
    const doc = await vscode.workspace.openTextDocument({ language: 'javascript', content });
    await vscode.window.showTextDocument(doc);
    const diag = await waitFor('lint diagnostic on the untitled file', () =>
      vscode.languages.getDiagnostics(doc.uri).find((d) => d.source === 'parprof' && d.range.start.line === 2),
    );
    assert.equal(typeof diag.code === 'object' ? String(diag.code.value) : diag.code, 'shared-plain-rmw');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diag.range);
    const fix = actions.find((a) => a.title === 'Use Atomics.add(c, 0, 1)');
    assert.ok(fix?.edit, `quick fix offered (got ${actions.map((a) => a.title).join(', ')})`);
    assert.ok(actions.some((a) => a.title === 'Ignore shared-plain-rmw on this line'));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.lineAt(2).text, 'Atomics.add(c, 0, 1);');
    await waitFor(
      'the finding to disappear after the debounced re-lint',
      () => !vscode.languages.getDiagnostics(doc.uri).some((d) => d.source === 'parprof'),
    );
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
