// Runs the whole test suite: build, then node:test over test/**/*.test.ts (plain Node and
// headless Chromium), then the real-VS-Code suite in code-server unless --no-vscode.
// Usage: node scripts/test.mjs [--no-vscode] [--no-build] [--no-lint] [filter-substring...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  return r.status ?? 1;
}

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'vscode' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

if (!args.includes('--no-build') && run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);
// The layer rule (only src/extension/ imports vscode) is an ESLint rule: run it with the tests.
if (!filters.length && !args.includes('--no-lint')) {
  const eslint = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');
  if (run(process.execPath, [eslint, 'src', 'webview', 'test', 'scripts', 'bench']) !== 0) {
    console.error('test: eslint failed (see above)');
    process.exit(1);
  }
  // Type errors: the tests run through tsx, which strips types without checking them.
  if (run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']) !== 0) {
    console.error('test: tsc found type errors (see above)');
    process.exit(1);
  }
}
let files = findTests(join(root, 'test')).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
let status = 0;
if (files.length) {
  status = run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=300000', ...files]);
}
if (!args.includes('--no-vscode') && !filters.length) {
  const v = run(process.execPath, ['scripts/vscode-test.mjs']);
  if (v !== 0) status = v;
}
process.exit(status);
