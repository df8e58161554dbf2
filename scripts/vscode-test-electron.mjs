/* global process, console */
// The same real-VS-Code suite (out/test/index.js) through @vscode/test-electron, for machines
// that can download VS Code (this one cannot: there, `npm run test:vscode` uses code-server).
// Usage: node scripts/build.mjs && node scripts/vscode-test-electron.mjs [--version stable|1.9x.y]
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const version = argv.includes('--version') ? argv[argv.indexOf('--version') + 1] : 'stable';

const base = mkdtempSync(join(tmpdir(), 'parprof-electron-'));
const workspace = join(base, 'workspace');
const userData = join(base, 'user-data');
cpSync(join(root, 'test', 'fixtures', 'vscode'), workspace, { recursive: true });
mkdirSync(join(userData, 'User'), { recursive: true });
writeFileSync(
  join(userData, 'User', 'settings.json'),
  JSON.stringify({ 'security.workspace.trust.enabled': false, 'parallelProfiler.nodePath': process.execPath }, null, 2),
);

let code;
try {
  code = await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'index.js'),
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--user-data-dir',
      userData,
      '--skip-welcome',
      '--skip-release-notes',
    ],
    extensionTestsEnv: { PARPROF_VSCODE_GREP: process.env.PARPROF_VSCODE_GREP ?? '' },
  });
} catch (e) {
  console.error(`vscode-test-electron: ${e.message ?? e}`);
  code = 1;
} finally {
  rmSync(base, { recursive: true, force: true });
}
process.exit(code);
