// The panel page: strict CSP with a nonce, the bundle from out/, the data injected once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import { panelHtml } from '../../src/extension/panelHtml';
import type { ScalingResult } from '../../src/protocol/scaling';

const scaling = {
  schema: 1,
  file: '/w/</script><script>alert(1)</script>.js',
  args: [],
  variable: { mode: 'env', name: 'WORKERS' },
  repeat: 1,
  cores: 2,
  rows: [],
  serialFraction: null,
  gustafson: [],
  warnings: [],
  cancelled: false,
  outDir: null,
} as ScalingResult;

function page(): string {
  return panelHtml({
    title: 'Scaling: x.js · 01:02:03',
    cspSource: 'https://webview.example',
    scriptUri: 'https://webview.example/out/webview.js',
    styleUri: 'https://webview.example/out/webview.css',
    payload: { kind: 'scaling', scaling },
  });
}

test("sets CSP default-src 'none' and runs only nonce'd scripts", () => {
  const html = page();
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none'/);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce && nonce.length >= 16, 'a nonce of at least 16 characters');
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
  assert.ok(scripts.length >= 2);
  for (const attrs of scripts) assert.ok(attrs.includes(`nonce="${nonce}"`) || attrs.includes('application/octet-stream'), attrs);
  assert.ok(html.includes('src="https://webview.example/out/webview.js"'));
  assert.ok(html.includes('href="https://webview.example/out/webview.css"'));
});

test('a fresh nonce per page load', () => {
  const n = (h: string) => /'nonce-([^']+)'/.exec(h)?.[1];
  assert.notEqual(n(page()), n(page()));
});

test('injects the payload once, with no way to close the script early', () => {
  const html = page();
  assert.equal(html.split('window.__PARPROF_DATA__ =').length, 2, 'exactly one injection');
  assert.ok(!html.includes('</script><script>alert(1)'), 'a file name cannot end the script element');
  const body = /<script[^>]*>(window\.__PARPROF_DATA__ = [\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const window: { __PARPROF_DATA__?: { scaling: ScalingResult } } = {};
  runInNewContext(body, { window });
  assert.equal(window.__PARPROF_DATA__?.scaling.file, scaling.file, 'the data survives escaping');
});
