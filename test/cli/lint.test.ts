// `parprof lint` (the built out/cli.js) on files that do not parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = join(__dirname, '..', '..', 'out', 'cli.js');
const programs = join(__dirname, '..', 'fixtures', 'core', 'programs');

function lint(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'lint', ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a file with a syntax error: one line naming the file, message and position, exit 2', () => {
  const r = lint(programs, 'syntax-error.js');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'parprof lint: could not parse syntax-error.js: Unexpected token (1:11)\n');
});

test('the other files are still linted, in --json too; exit 2 says one could not be read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-lint-'));
  writeFileSync(join(dir, 'a-good.js'), 'const a = new Int32Array(new SharedArrayBuffer(4));\nwhile (Atomics.load(a, 0) === 0) Atomics.wait(a, 0, 0);\na[0]++;\n');
  writeFileSync(join(dir, 'b-broken.js'), 'const a = new Int32Array(new SharedArrayBuffer(4));\nfunction f( {\n');
  const r = lint(dir, '.', '--json');
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout) as { diagnostics: { file: string; rule: string }[] };
  assert.ok(out.diagnostics.length > 0 && out.diagnostics.every((d) => d.file === 'a-good.js'), r.stdout);
  assert.equal(r.stderr, 'parprof lint: could not parse b-broken.js: Unexpected token (3:1)\n');
});

test('valid TypeScript with decorators is no syntax error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-lint-'));
  writeFileSync(join(dir, 'deco.ts'), 'function sealed(c: unknown) { return c; }\n@sealed\nclass Box { n: number = 1; }\nexport { Box };\n');
  const r = lint(dir, 'deco.ts');
  assert.equal(r.code, 0, r.stderr);
});
