/**
 * The viewer in a real browser: report.html built from synthetic reports, opened from disk
 * in headless Chromium, checked for what a user sees — one lane per thread, a drawn
 * timeline, table rows, sorting and filtering, drawn charts, race and lock rows, the scaling
 * view — with no console errors. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { inkedPixels, launch, openPage, screenshot, writeReportHtml } from './browser';
import { makeReport, makeScaling } from './makeReport';

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Texts of one column of the visible function-table rows, top to bottom. */
async function columnTexts(page: Page, col: number): Promise<string[]> {
  return page.$$eval(
    '.ftable-body .ftable-row:not([hidden])',
    (rows, c) => rows.sort((a, b) => new DOMMatrix(getComputedStyle(a).transform).f - new DOMMatrix(getComputedStyle(b).transform).f).map((r) => r.children[c]!.textContent ?? ''),
    col,
  );
}

describe('report.html', () => {
  const report = makeReport({ threads: 6, events: 6000, childProcess: true, functions: 60 });
  let page: Page;
  let errors: string[];
  before(async () => {
    ({ page, errors } = await openPage(browser, await writeReportHtml(report)));
  });
  after(() => page.close());

  test('shows one timeline lane per thread, grouped by process, and draws it', async () => {
    assert.equal(await page.$eval('.timeline-canvas', (c) => (c as HTMLElement).dataset.lanes), '6');
    assert.equal(await page.$eval('.timeline-canvas', (c) => (c as HTMLElement).dataset.slices), '6000');
    assert.ok((await inkedPixels(page, '.timeline-canvas')) > 20_000, 'timeline canvas is drawn');
    await screenshot(page, 'report-timeline');
  });

  test('header states the outcome, the parallel measures and the efficiency tree', async () => {
    const text = await page.$eval('.report-header', (e) => e.textContent ?? '');
    assert.match(text, /exited \(code 0\)/);
    assert.match(text, /parallelism/i);
    assert.match(text, /Amdahl ceiling/i);
    assert.equal(await page.$$eval('.eff-row', (r) => r.length), 5);
    assert.match(text, /load balance/);
    assert.match(text, /Parallel model: data parallel/);
  });

  test('hovering a slice shows a tooltip; clicking shows its stack with source links', async () => {
    const box = (await page.$('.timeline-canvas'))!;
    const bb = (await box.boundingBox())!;
    // Lane of worker 1 (second lane after the process header).
    const laneY = await page.evaluate(() => 26 + 18 + 24 + 10);
    await page.mouse.move(bb.x + 600, bb.y + laneY);
    await page.waitForSelector('.tooltip:not([hidden])');
    assert.match(await page.$eval('.tooltip', (e) => e.textContent ?? ''), /worker 1 \(thread 1\)/);
    let found = false;
    for (let x = 600; x < 1200 && !found; x += 7) {
      await page.mouse.click(bb.x + x, bb.y + laneY);
      found = (await page.$$('.stack-panel .frames a.src')).length > 0;
    }
    assert.ok(found, 'a clicked running slice shows its stack');
    await page.click('.stack-panel .frames a.src');
    assert.match((await page.evaluate(() => document.body.dataset.lastOpenSource)) ?? '', /^\/app\/\w+\.js:\d+:1$/);
  });

  test('zooms with the wheel and keys, pans by dragging', async () => {
    const range = async (): Promise<number[]> => (await page.$eval('.timeline', (e) => (e as HTMLElement).dataset.range!)).split(',').map(Number);
    const [a0, b0] = await range();
    const bb = (await (await page.$('.timeline-canvas'))!.boundingBox())!;
    await page.mouse.move(bb.x + 700, bb.y + 80);
    await page.mouse.wheel(0, -400);
    await page.waitForTimeout(50);
    const [a1, b1] = await range();
    assert.ok(b1! - a1! < (b0! - a0!) * 0.8, 'wheel zooms in');
    await page.mouse.move(bb.x + 700, bb.y + 80);
    await page.mouse.down();
    await page.mouse.move(bb.x + 500, bb.y + 80, { steps: 5 });
    await page.mouse.up();
    const [a2, b2] = await range();
    assert.ok(a2! > a1!, 'dragging left pans later in time');
    assert.ok(Math.abs(b2! - a2! - (b1! - a1!)) < 0.01, 'panning keeps the zoom');
    await page.focus('.timeline-canvas');
    await page.keyboard.press('-');
    const [a3, b3] = await range();
    assert.ok(b3! - a3! > b2! - a2!, '- zooms out');
    await page.keyboard.press('0');
    assert.ok((await inkedPixels(page, '.timeline-canvas')) > 20_000);
  });

  test('function table lists, sorts and filters rows like pstats', async () => {
    await page.click('.tab[data-view=functions]');
    const merged = report.functions.filter((f) => f.threadId === -1);
    assert.equal(await page.$eval('.functions', (e) => (e as HTMLElement).dataset.rows), String(merged.length));
    // Default: tottime descending.
    const tot = (await columnTexts(page, 1)).map(Number);
    assert.deepEqual(tot, [...tot].sort((a, b) => b - a));
    assert.equal(tot[0], Number((Math.max(...merged.map((f) => f.tottimeMs)) / 1000).toFixed(3)));
    // ncalls ascending after two clicks; recursive rows show total/primitive.
    await page.click('.ftable-head [data-key=ncalls]');
    await page.click('.ftable-head [data-key=ncalls]');
    const calls = (await columnTexts(page, 0)).map((s) => Number(s.split('/')[0]));
    assert.deepEqual(calls, [...calls].sort((a, b) => a - b));
    assert.ok(merged.some((f) => f.ncalls !== f.primitiveCalls));
    await page.click('.ftable-head [data-key=location]');
    const locs = await columnTexts(page, 5);
    assert.deepEqual(locs, [...locs].sort((x, y) => (x.split(':')[0]! < y.split(':')[0]! ? -1 : x.split(':')[0]! > y.split(':')[0]! ? 1 : 0) || Number(x.split(':')[1]!.split('(')[0]) - Number(y.split(':')[1]!.split('(')[0])));
    await page.fill('.functions input.filter', 'fib');
    const fibRows = merged.filter((f) => `${f.name} ${f.file}:${f.line}`.toLowerCase().includes('fib')).length;
    assert.equal(await page.$eval('.functions', (e) => (e as HTMLElement).dataset.rows), String(fibRows));
    for (const t of await columnTexts(page, 5)) assert.match(t, /fib/);
    await page.fill('.functions input.filter', '');
    await screenshot(page, 'report-functions');
  });

  test('per-thread rows, callers and callees, Enter opens source', async () => {
    await page.selectOption('.functions select.thread-select', '2');
    const rows2 = report.functions.filter((f) => f.threadId === 2).length;
    assert.equal(await page.$eval('.functions', (e) => (e as HTMLElement).dataset.rows), String(rows2));
    await page.click('.ftable-body .ftable-row:not([hidden]) >> nth=0');
    assert.match(await page.$eval('.related', (e) => e.textContent ?? ''), /Called by.*Calls/s);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const sel = await page.$eval('.ftable-row.selected', (e) => Number((e as HTMLElement).dataset.fn));
    const f = report.functions[sel]!;
    assert.equal(f.threadId, 2);
    assert.equal(await page.evaluate(() => document.body.dataset.lastOpenSource), `${f.file}:${f.line}:${f.column}`);
  });

  test('charts draw per-thread states and busy threads over time', async () => {
    await page.click('.tab[data-view=charts]');
    await page.waitForTimeout(100);
    assert.ok((await inkedPixels(page, 'canvas[data-chart=thread-states]')) > 5000);
    assert.ok((await inkedPixels(page, 'canvas[data-chart=busy-over-time]')) > 5000);
    await screenshot(page, 'report-charts');
  });

  test('races, locks and deadlocks list their findings with clickable sites', async () => {
    await page.click('.tab[data-view=races]');
    assert.equal(await page.$$eval('.card.race', (c) => c.length), report.races.length);
    assert.equal(await page.$$eval('.card.race >> nth=0 >> .access', (c) => c.length), 2);
    await page.click('.card.race >> nth=0 >> .access a.src >> nth=0');
    assert.equal(await page.evaluate(() => document.body.dataset.lastOpenSource), '/app/worker.js:41:5');
    await screenshot(page, 'report-races');
    await page.click('.tab[data-view=locks]');
    const ids = await page.$$eval('.lock-row', (r) => r.map((e) => (e as HTMLElement).dataset.lock));
    assert.deepEqual(ids, [...report.locks].sort((a, b) => b.waitMs - a.waitMs).map((l) => l.id));
    await page.click('.locks th[data-key=hold]');
    const byHold = await page.$$eval('.lock-row', (r) => r.map((e) => (e as HTMLElement).dataset.lock));
    assert.deepEqual(byHold, [...report.locks].sort((a, b) => b.holdMs - a.holdMs).map((l) => l.id));
    await page.click('.tab[data-view=deadlocks]');
    assert.match(await page.$eval('.deadlocks', (e) => e.textContent ?? ''), /lock-order inversion/);
  });

  test('logs no console errors', () => {
    assert.deepEqual(errors, []);
  });
});

test('a crashed, partial run says so in the header', async () => {
  const { page, errors } = await openPage(browser, await writeReportHtml(makeReport({ threads: 3, events: 300, outcome: 'crashed' })), { colorScheme: 'dark' });
  const text = await page.$eval('.report-header', (e) => e.textContent ?? '');
  assert.match(text, /crashed \(code 1\)/);
  assert.match(text, /partial data/);
  assert.match(text, /TypeError: x is not a function/);
  await screenshot(page, 'report-crashed-dark');
  assert.deepEqual(errors, []);
  await page.close();
});

test('high contrast themes draw the timeline and the table', async () => {
  const report = makeReport({ threads: 4, events: 2000 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, forcedColors: 'active', colorScheme: 'dark' });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`file://${await writeReportHtml(report)}`);
  await page.waitForFunction(() => document.body.dataset.ready);
  assert.ok((await inkedPixels(page, '.timeline-canvas')) > 10_000);
  await screenshot(page, 'report-high-contrast');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the function table stays a virtual list with 100k rows', async () => {
  const report = makeReport({ threads: 2, events: 500, functions: 100_000, perThreadFunctions: false });
  const { page, errors } = await openPage(browser, await writeReportHtml(report));
  await page.click('.tab[data-view=functions]');
  assert.equal(await page.$eval('.functions', (e) => (e as HTMLElement).dataset.rows), '100000');
  assert.ok((await page.$$('.ftable-body .ftable-row')).length < 60, 'only visible rows are in the DOM');
  await page.$eval('.ftable-body', (e) => (e.scrollTop = e.scrollHeight));
  await page.waitForTimeout(100);
  const last = await columnTexts(page, 1);
  assert.ok(last.length > 5);
  assert.equal(Number(last[last.length - 1]), 0 + Number((Math.min(...report.functions.filter((f) => f.threadId === -1).map((f) => f.tottimeMs)) / 1000).toFixed(3)));
  assert.deepEqual(errors, []);
  await page.close();
});

test('inside VS Code it posts ready, openSource and selectThread, and obeys host messages', async () => {
  const report = makeReport({ threads: 3, events: 300 });
  const page = await browser.newPage();
  // A string, not a function: tsx's keepNames helpers do not exist in the page.
  await page.addInitScript('window.__sent = []; window.acquireVsCodeApi = function () { return { postMessage: function (m) { window.__sent.push(m); } }; };');
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`file://${await writeReportHtml(report)}`);
  await page.waitForFunction(() => document.body.dataset.ready);
  const sent = (): Promise<{ type: string }[]> => page.evaluate(() => (window as unknown as { __sent: { type: string }[] }).__sent);
  await page.waitForFunction(() => (window as unknown as { __sent: { type: string }[] }).__sent.some((m) => m.type === 'ready'));
  assert.equal(await page.$$eval('.exports button', (b) => b.length), 4, 'all export formats offered');
  await page.click('.exports button[data-export=chrome]');
  // Malformed host messages are ignored; showFunction selects the row.
  await page.evaluate(() => {
    window.postMessage({ type: 'showFunction' }, '*');
    window.postMessage('nonsense', '*');
    window.postMessage({ type: 'reveal', view: 42 }, '*');
  });
  const f = report.functions.find((x) => x.threadId === 1)!;
  await page.evaluate((m) => window.postMessage(m, '*'), { type: 'showFunction', file: f.file, line: f.line, threadId: 1 });
  await page.waitForSelector('.ftable-row.selected');
  assert.equal(await page.$eval('.functions select.thread-select', (s) => (s as HTMLSelectElement).value), '1');
  await page.dblclick('.ftable-row.selected');
  await page.selectOption('.functions select.thread-select', '-1');
  const msgs = await sent();
  assert.deepEqual(msgs.find((m) => m.type === 'export'), { type: 'export', format: 'chrome' });
  const open = msgs.find((m) => m.type === 'openSource') as unknown as { file: string; line: number };
  assert.equal(open.file, f.file);
  assert.equal(open.line, f.line);
  assert.deepEqual(msgs.find((m) => m.type === 'selectThread'), { type: 'selectThread', threadId: -1 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the scaling view plots speedup, efficiency and wall time; a point opens its run', async () => {
  const { page, errors } = await openPage(browser, await writeReportHtml({ kind: 'scaling', scaling: makeScaling(0.2) }));
  for (const c of ['speedup', 'efficiency', 'wall', 'factors']) assert.ok((await inkedPixels(page, `canvas[data-chart=${c}]`)) > 3000, `${c} chart drawn`);
  assert.match(await page.$eval('.fit', (e) => e.textContent ?? ''), /serial fraction 20\.0%/);
  assert.equal(await page.$$eval('.scaling-table tbody tr', (r) => r.length), 4);
  await screenshot(page, 'scaling');
  const pt = (await page.evaluate(() => window.__parprof!.pointAt!('speedup', 4)))!;
  await page.mouse.click(pt.x, pt.y);
  // chart.js may hand the click to its handler on the next animation frame: wait for the outcome.
  await page.waitForFunction(() => document.body.dataset.lastOpenRun !== undefined, null, { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.evaluate(() => document.body.dataset.lastOpenRun), '/tmp/scale/w4', 'clicking the 4-worker point opens its run');
  await page.click('.scaling-table tbody tr[data-workers="2"] button');
  assert.equal(await page.evaluate(() => document.body.dataset.lastOpenRun), '/tmp/scale/w2');
  assert.deepEqual(errors, []);
  await page.close();
});
