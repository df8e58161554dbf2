// The host validates every message from the webview before acting on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../src/extension/webviewMessages';

test('accepts each well-formed message the webview sends', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'openSource', file: '/a/b.js', line: 12, column: 3 }), {
    type: 'openSource',
    file: '/a/b.js',
    line: 12,
    column: 3,
  });
  assert.deepEqual(parseWebviewMessage({ type: 'export', format: 'cpuprofile' }), { type: 'export', format: 'cpuprofile' });
  assert.deepEqual(parseWebviewMessage({ type: 'selectThread', threadId: -1 }), { type: 'selectThread', threadId: -1 });
  assert.deepEqual(parseWebviewMessage({ type: 'openRun', outDir: '/tmp/x/w2' }), { type: 'openRun', outDir: '/tmp/x/w2' });
  assert.deepEqual(parseWebviewMessage({ type: 'log', level: 'error', message: 'boom' }), { type: 'log', level: 'error', message: 'boom' });
});

test('drops unknown, malformed and hostile messages', () => {
  for (const bad of [
    null,
    'ready',
    [],
    {},
    { type: 'runCommand', command: 'rm -rf /' },
    { type: 'openSource' },
    { type: 'openSource', file: 42, line: 1 },
    { type: 'openSource', file: 'a\0b', line: 1 },
    { type: 'openSource', file: 'x'.repeat(5000), line: 1 },
    { type: 'export', format: 'exe' },
    { type: 'export' },
    { type: 'selectThread', threadId: 1.5 },
    { type: 'selectThread', threadId: -7 },
    { type: 'openRun', outDir: '' },
    { type: 'log', message: '' },
  ]) {
    assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad)?.slice(0, 80));
  }
});

test('clamps positions to 1-based lines and columns', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'openSource', file: 'a.js', line: 0, column: -4 }), {
    type: 'openSource',
    file: 'a.js',
    line: 1,
    column: 1,
  });
  assert.deepEqual(parseWebviewMessage({ type: 'openSource', file: 'a.js', line: '7', column: NaN }), {
    type: 'openSource',
    file: 'a.js',
    line: 1,
    column: 1,
  });
});
