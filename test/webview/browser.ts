/**
 * Helpers for the viewer's browser tests and benchmark: build the webview bundle (just that
 * entry, so another entry's breakage cannot block these tests), write a report.html, and open
 * it in headless Chromium from Debian through playwright-core.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildPageHtml, buildReportHtml, type ReportHtmlOptions } from '../../src/core/reportHtml';
import type { PagePayload } from '../../src/protocol/messages';
import type { Report } from '../../src/protocol/report';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');
/** Where screenshots go. */
export const RESULTS = join(ROOT, 'test-results');

let built = false;

/** Bundles webview/main.ts to out/webview.js (as scripts/build.mjs does) and copies the CSS. */
export async function buildWebview(): Promise<void> {
  if (built) return;
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['webview/main.ts'],
    outfile: 'out/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome110',
    logLevel: 'warning',
    loader: { '.css': 'text', '.html': 'text' },
    define: { PARPROF_VERSION: '"0.1.0"' },
  });
  copyFileSync(join(ROOT, 'webview/style.css'), join(ROOT, 'out/webview.css'));
  built = true;
}

/** Writes report.html for a report (or a page for any payload) into a fresh temp dir; returns its path. */
export async function writeReportHtml(report: Report | PagePayload, opts: ReportHtmlOptions = {}): Promise<string> {
  await buildWebview();
  const dir = mkdtempSync(join(tmpdir(), 'parprof-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, 'kind' in report ? buildPageHtml(report, opts) : buildReportHtml(report, opts));
  return file;
}

/** Launches headless Chromium with the flags that work on this machine. */
export async function launch(): Promise<Browser> {
  // playwright-core gives each launch a fresh temporary profile (--user-data-dir).
  return chromium.launch({
    // The benchmark may point this at a wrapper that raises the browser's priority on a shared machine.
    executablePath: process.env.PARPROF_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
  });
}

/** Opens a page on a file, collecting console errors and page errors. */
export async function openPage(browser: Browser, file: string, opts: { width?: number; height?: number; colorScheme?: 'light' | 'dark'; timeoutMs?: number } = {}): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, colorScheme: opts.colorScheme ?? 'light' });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const timeout = opts.timeoutMs ?? 180_000;
  await page.goto(`file://${file}`, { timeout, waitUntil: 'commit' });
  await page.waitForFunction(() => document.body?.dataset.ready, null, { timeout });
  return { page, errors };
}

/** Saves a screenshot under test-results/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Counts non-background pixels of a canvas (drawn = more than a few). */
export async function inkedPixels(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (el) => {
    const c = el as HTMLCanvasElement;
    const ctx = c.getContext('2d');
    if (!ctx || !c.width || !c.height) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}
