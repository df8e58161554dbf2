// One esbuild script builds every entry (layer rules: ../shared/ARCHITECTURE.md §1).
// Usage: node scripts/build.mjs [--watch] [--minify]
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

/** Every bundle the product ships: the extension, the agent preload and its ESM hooks, the CLI, the webview, the VS Code test entry. */
const entries = [
  { in: 'src/extension/extension.ts', out: 'out/extension.js', platform: 'node', format: 'cjs', external: ['vscode'] },
  { in: 'src/extension/profileWorker.ts', out: 'out/profileWorker.js', platform: 'node', format: 'cjs' },
  { in: 'src/agent/index.ts', out: 'out/agent.js', platform: 'node', format: 'cjs' },
  { in: 'src/agent/esmHooks.ts', out: 'out/agent-hooks.mjs', platform: 'node', format: 'esm' },
  { in: 'src/agent/main.ts', out: 'out/agent-main.js', platform: 'node', format: 'cjs' },
  { in: 'src/agent/typescript.ts', out: 'out/agent-ts.js', platform: 'node', format: 'cjs' },
  { in: 'src/cli/main.ts', out: 'out/cli.js', platform: 'node', format: 'cjs', banner: '#!/usr/bin/env node' },
  { in: 'webview/main.ts', out: 'out/webview.js', platform: 'browser', format: 'iife' },
  { in: 'test/vscode/index.ts', out: 'out/test/index.js', platform: 'node', format: 'cjs', external: ['vscode', 'mocha'] },
];

const contexts = [];
for (const e of entries) {
  if (!existsSync(join(root, e.in))) {
    console.warn(`build: skipping ${e.in} (not written yet)`);
    continue;
  }
  const ctx = await esbuild.context({
    absWorkingDir: root,
    entryPoints: [e.in],
    outfile: e.out,
    bundle: true,
    platform: e.platform,
    format: e.format,
    target: e.platform === 'node' ? 'node20' : 'chrome110',
    external: e.external ?? [],
    banner: e.banner ? { js: e.banner } : undefined,
    sourcemap: e.platform === 'browser' ? false : 'linked',
    minify,
    logLevel: 'warning',
    loader: { '.css': 'text', '.html': 'text' },
    define: { PARPROF_VERSION: JSON.stringify(process.env.npm_package_version ?? '0.1.0') },
  });
  contexts.push(ctx);
}
mkdirSync(join(root, 'out'), { recursive: true });
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('build: watching');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (existsSync(join(root, 'webview/style.css'))) cpSync(join(root, 'webview/style.css'), join(root, 'out/webview.css'));
  console.log(`build: ${contexts.length} bundles`);
}
