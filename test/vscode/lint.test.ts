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
});
