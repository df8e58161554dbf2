/**
 * The viewer on a real run: `parprof run` profiles examples/matmul.js (main + 4 workers) and
 * writes report.html; the page shows one lane per profiled thread and the same function rows
 * as report.json, without console errors. Skipped when the CLI is not built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/protocol/report';
import { ROOT, buildWebview, inkedPixels, launch, openPage, screenshot } from './browser';

const cli = join(ROOT, 'out', 'cli.js');

test('report.html of a real worker_threads run shows every thread and function', { skip: !existsSync(cli) && 'out/cli.js not built' }, async () => {
  await buildWebview();
  const out = mkdtempSync(join(tmpdir(), 'parprof-real-'));
  const run = spawnSync(process.execPath, [cli, 'run', join(ROOT, 'examples', 'matmul.js'), '--out', out], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  assert.ok(report.threads.length >= 5, 'main and four workers');
  const browser = await launch();
  try {
    const { page, errors } = await openPage(browser, join(out, 'report.html'));
    assert.equal(await page.$eval('.timeline-canvas', (c) => (c as HTMLElement).dataset.lanes), String(report.threads.length));
    assert.equal(await page.$eval('.timeline-canvas', (c) => (c as HTMLElement).dataset.slices), String(report.timeline.start.length));
    assert.ok((await inkedPixels(page, '.timeline-canvas')) > 5000);
    await screenshot(page, 'real-matmul-timeline');
    await page.click('.tab[data-view=functions]');
    const merged = report.functions.filter((f) => f.threadId === -1).length;
    assert.equal(await page.$eval('.functions', (e) => (e as HTMLElement).dataset.rows), String(merged));
    await page.fill('.functions input.filter', 'multiplyRows');
    assert.match(await page.$eval('.ftable-body .ftable-row:not([hidden])', (r) => r.textContent ?? ''), /matmul\.js:\d+\(multiplyRows\)/);
    await screenshot(page, 'real-matmul-functions');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
