/* global process, console, fetch, URLSearchParams, setTimeout, clearTimeout, window, document */
// `npm run test:vscode`: the real-VS-Code suite in code-server (../shared/TESTING.md §3).
// 1. installs Chromium, Node 24 and code-server when missing (scripts/install-code-server.mjs);
// 2. starts code-server in its own session with temp XDG/TMPDIR/user-data/extensions dirs and
//    the smoke-test driver enabled, on a copy of test/fixtures/vscode;
// 3. loads the extension from this folder via the test payload and runs the mocha suite
//    (out/test/index.js) inside the extension host, printing its report;
// 4. a browser-level test: right-click in the editor → "Profile in Parallel" → panel →
//    screenshot in test-results/;
// 5. always kills the server's process group and removes the temp dirs.
// Usage: node scripts/vscode-test.mjs [--suite-only|--ui-only] [--vsix FILE] [--keep]
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { ensureAll } from './install-code-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (f) => argv.includes(f);
const vsixArg = argv.includes('--vsix') ? resolve(argv[argv.indexOf('--vsix') + 1] ?? '') : null;
const resultsDir = join(root, 'test-results');
const SUITE_TIMEOUT_MS = 6 * 60_000;

function log(msg) {
  console.log(`vscode-test: ${msg}`);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a promise with a deadline. */
function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what} timed out after ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(t));
}

/** A temp world for one server: XDG dirs, TMPDIR, user data, extensions, workspace copy. */
function makeDirs() {
  const base = mkdtempSync(join(tmpdir(), 'parprof-vscode-'));
  const d = {
    base,
    config: join(base, 'xdg-config'),
    data: join(base, 'xdg-data'),
    cache: join(base, 'xdg-cache'),
    tmp: join(base, 'tmp'),
    userData: join(base, 'user-data'),
    extensions: join(base, 'extensions'),
    workspace: join(base, 'workspace'),
  };
  for (const p of Object.values(d)) mkdirSync(p, { recursive: true });
  cpSync(join(root, 'test', 'fixtures', 'vscode'), d.workspace, { recursive: true });
  mkdirSync(join(d.userData, 'User'), { recursive: true });
  writeFileSync(
    join(d.userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.editor.doubleClickTabToToggleEditorGroupSizes': 'maximize',
        // Profile with the Node that runs this script (the CLI's node), not code-server's Node 24.
        'parallelProfiler.nodePath': process.execPath,
      },
      null,
      2,
    ),
  );
  return d;
}

/** code-server's environment: Node 24 first on PATH, every write confined to the temp dirs. */
function serverEnv(paths, dirs) {
  const env = {
    ...process.env,
    PATH: `${paths.nodeBin}:${process.env.PATH}`,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    TMPDIR: dirs.tmp,
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

/** Starts code-server in its own process group; resolves once /healthz answers. */
async function startServer(paths, dirs, port) {
  const env = serverEnv(paths, dirs);
  const logFile = join(dirs.base, 'server.log');
  const out = openSync(logFile, 'a');
  const args = [
    paths.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    '--vscode-option',
    'enable-smoke-test-driver',
    dirs.workspace,
  ];
  // detached: the child calls setsid(), so its pid is the process group we kill at the end.
  const child = spawn(paths.node, args, { env, detached: true, stdio: ['ignore', out, out] });
  const server = { child, logFile, port, env };
  const end = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error('code-server did not answer /healthz within 60 s');
    await sleep(200);
  }
}

/** Kills the server's whole process group, politely then firmly. */
async function stopServer(server) {
  if (!server?.child.pid) return;
  const pgid = server.child.pid;
  const kill = (sig) => {
    try {
      process.kill(-pgid, sig);
      return true;
    } catch {
      return false;
    }
  };
  if (!kill('SIGTERM')) return;
  for (let i = 0; i < 20; i++) {
    await sleep(100);
    if (!kill(0)) return;
  }
  kill('SIGKILL');
}

/** Installs a .vsix into the server's extensions dir (proves the package installs and loads). */
async function installVsix(paths, dirs, server, vsix) {
  const child = spawn(
    paths.node,
    [paths.codeServerEntry, '--install-extension', vsix, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData],
    {
      env: server.env,
      stdio: 'inherit',
    },
  );
  const code = await new Promise((r) => child.on('close', r));
  if (code !== 0) throw new Error(`--install-extension failed (${code})`);
}

async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

function workbenchUrl(port, folder, payload) {
  const q = new URLSearchParams({ folder });
  if (payload) q.set('payload', JSON.stringify(payload));
  return `http://127.0.0.1:${port}/?${q.toString()}`;
}

/** The workbench's own start-up chatter (offline gallery, sockets, stack frames of its URLs). */
function workbenchNoise(line) {
  const first = line.split('\n', 1)[0] ?? '';
  return (
    /\/static\/out\/vs\//.test(first) ||
    /^(Resolving connection|Resolved connection|Creating a socket|\[AgentHost|\[lifecycle\]|Extension host \(|Creation of workbench|Timed out waiting for authentication|%c)/.test(
      first,
    ) ||
    /open-vsx\.org|ENOTFOUND|ERR_NAME_NOT_RESOLVED/.test(first)
  );
}

/** Runs the mocha suite inside the extension host; returns its exit code. */
async function runSuite(browser, port, dirs) {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(root)],
    ['extensionTestsPath', remote(join(root, 'out', 'test', 'index.js'))],
    ['skipWelcome', 'true'],
  ];
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  let done;
  const exited = new Promise((r) => (done = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = Array.isArray(args) ? format(...args) : format(args);
    if (workbenchNoise(line)) return;
    if (type === 'error') console.error(line);
    else console.log(line);
  });
  await page.exposeFunction('codeAutomationExit', (code) => done(code));
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  await page.goto(workbenchUrl(port, dirs.workspace, payload), { timeout: 120_000, waitUntil: 'domcontentloaded' });
  try {
    return await withTimeout(exited, SUITE_TIMEOUT_MS, 'the extension-host suite');
  } catch (e) {
    await page.screenshot({ path: join(resultsDir, 'vscode-suite-timeout.png') }).catch(() => {});
    throw e;
  } finally {
    await page.context().close();
  }
}

/** Right-click in the editor → "Profile in Parallel" → the panel opens; screenshots. */
async function runRightClickTest(browser, port, dirs, { fromVsix }) {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = fromVsix
    ? [['skipWelcome', 'true']]
    : [
        ['extensionDevelopmentPath', remote(root)],
        ['skipWelcome', 'true'],
      ];
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  const shot = (name) => page.screenshot({ path: join(resultsDir, name) });
  page.on('console', (m) => {
    if (m.type() === 'error' && /webview|parprof|Content Security Policy|__PARPROF/i.test(m.text()))
      log(`console: ${m.text().slice(0, 300)}`);
  });
  try {
    await page.goto(workbenchUrl(port, dirs.workspace, payload), { timeout: 120_000, waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    await sleep(2000);
    // Open the fixture from the Explorer (Quick Open's file search is slow on a busy machine).
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^threads\.js$/ }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.waitForSelector('.monaco-editor .view-lines >> text=isMainThread', { timeout: 30_000 });
    await sleep(1000);
    // Right-click in the text and choose the command from the editor context menu.
    await page.click('.monaco-editor .view-lines', { button: 'right', position: { x: 200, y: 60 } });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Profile in Parallel' }).first();
    await item.waitFor({ timeout: 15_000 });
    await shot(`vscode-context-menu${fromVsix ? '-vsix' : ''}.png`);
    await item.click();
    // The panel's tab is titled "threads.js · HH:MM:SS".
    await page.waitForSelector('.tab .label-name >> text=/threads\\.js · \\d\\d:\\d\\d:\\d\\d/', { timeout: 90_000 });
    // The bundle sets body[data-ready] once it has read the payload and drawn.
    const webview = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await webview.locator('body[data-ready="report"]').waitFor({ timeout: 90_000 });
    const frame = page.frames().find((f) => f.url().includes('fake.html'));
    if (!frame) throw new Error('the webview frame was not found');
    const seen = await frame.evaluate(() => ({
      lanes: window.__parprof?.timeline?.laneCount ?? null,
      title: document.querySelector('h1, h2, header')?.textContent ?? '',
    }));
    await sleep(2500); // let the charts finish their animation
    await shot(`vscode-panel${fromVsix ? '-vsix' : ''}.png`);
    // The panel on its own: maximise its editor group (double-click its tab), then screenshot.
    await page.dblclick('.tab .label-name >> text=/threads\\.js · /');
    await page.keyboard.press('Control+J'); // hide the Output panel below
    await sleep(2000);
    await shot(`vscode-panel-maximized${fromVsix ? '-vsix' : ''}.png`);
    await frame.evaluate(() => document.querySelector('[data-pane="timeline"]')?.scrollIntoView());
    await sleep(1000);
    await shot(`vscode-panel-timeline${fromVsix ? '-vsix' : ''}.png`);
    log(`panel: ${seen.lanes} timeline lanes, header ${JSON.stringify(seen.title.slice(0, 80))}`);
    if (seen.lanes !== 4) throw new Error(`expected 4 timeline lanes (main + 3 workers), saw ${seen.lanes}`);
    return 0;
  } catch (e) {
    await shot(`vscode-right-click-failure${fromVsix ? '-vsix' : ''}.png`).catch(() => {});
    console.error(`right-click test failed: ${e.message}`);
    return 1;
  } finally {
    await page.context().close();
  }
}

async function main() {
  if (!existsSync(join(root, 'out', 'extension.js'))) throw new Error('out/extension.js is missing: run `npm run build` first');
  if (!flag('--ui-only') && !existsSync(join(root, 'out', 'test', 'index.js')))
    throw new Error('out/test/index.js is missing: run `npm run build` first');
  mkdirSync(resultsDir, { recursive: true });
  const t0 = Date.now();
  const paths = ensureAll();
  log(`prerequisites ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const dirs = makeDirs();
  let server;
  let browser;
  const results = [];
  try {
    const port = await freePort();
    if (vsixArg) await installVsix(paths, dirs, { env: serverEnv(paths, dirs) }, vsixArg);
    server = await startServer(paths, dirs, port);
    log(`code-server on port ${port} (pgid ${server.child.pid})`);
    browser = await launchBrowser();
    if (!flag('--ui-only') && !vsixArg) {
      const code = await runSuite(browser, port, dirs);
      results.push(['extension-host suite', code]);
    }
    if (!flag('--suite-only')) {
      const code = await runRightClickTest(browser, port, dirs, { fromVsix: !!vsixArg });
      results.push([`right-click → panel${vsixArg ? ' (installed .vsix)' : ''}`, code]);
    }
  } finally {
    await browser?.close().catch(() => {});
    await stopServer(server);
    if (server && results.some(([, c]) => c !== 0)) log(`server log tail:\n${readFileSync(server.logFile, 'utf8').slice(-2000)}`);
    if (!flag('--keep')) rmSync(dirs.base, { recursive: true, force: true });
    else log(`kept ${dirs.base}`);
  }
  const failed = results.filter(([, c]) => c !== 0);
  for (const [name, c] of results) log(`${c === 0 ? 'ok  ' : 'FAIL'} ${name}`);
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`vscode: ${results.length - failed.length} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`vscode-test: ${e.stack ?? e.message}`);
    console.log('vscode: 0 passed, 1 failed');
    process.exit(1);
  },
);
