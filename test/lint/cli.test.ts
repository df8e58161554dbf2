// `parprof lint` through the real CLI entry (src/cli/main.ts under tsx): output shape, JSON
// contract and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const fixtures = 'test/fixtures/lint';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lint', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--json prints only {diagnostics} with the contract fields', () => {
  const r = cli(`${fixtures}/unlock-without-notify.js`, '--json');
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(out), ['diagnostics']);
  assert.equal(out.diagnostics.length, 2);
  for (const d of out.diagnostics) assert.deepEqual(Object.keys(d).sort(), ['column', 'endColumn', 'endLine', 'file', 'line', 'message', 'rule', 'severity']);
  assert.deepEqual(out.diagnostics[0], {
    rule: 'unlock-without-notify', severity: 'error', file: `${fixtures}/unlock-without-notify.js`,
    line: 9, column: 3, endLine: 9, endColumn: 25,
    message: out.diagnostics[0]!.message,
  });
  assert.match(String(out.diagnostics[0]!.message), /Atomics\.notify\(m, 0\)/);
});

test('human output is file:line:col  severity  rule  message', () => {
  const r = cli(`${fixtures}/wait-without-loop.js`);
  assert.equal(r.code, 0, 'warnings only: exit 0');
  assert.match(r.stdout, /^test\/fixtures\/lint\/wait-without-loop\.js:6:3 {2}warning {2}wait-without-loop {2}Atomics\.wait can return/m);
  assert.equal(r.stdout.trim().split('\n').length, 1);
});

test('exit 1 when an error-severity finding exists, 0 on a clean file', () => {
  assert.equal(cli(`${fixtures}/atomics-array-types.js`).code, 1);
  const dir = mkdtempSync(join(tmpdir(), 'parprof-lint-'));
  writeFileSync(join(dir, 'clean.js'), 'const a = new Int32Array(new SharedArrayBuffer(4));\nAtomics.add(a, 0, 1);\n');
  const r = cli(join(dir, 'clean.js'), '--json');
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), { diagnostics: [] });
});

test('folders are searched for JS/TS files; --disable turns a rule off', () => {
  const all = JSON.parse(cli(fixtures, '--json').stdout) as { diagnostics: { rule: string; file: string }[] };
  assert.ok(new Set(all.diagnostics.map((d) => d.file)).size >= 10);
  const off = JSON.parse(cli(fixtures, '--json', '--disable', 'shared-plain-rmw').stdout) as { diagnostics: { rule: string }[] };
  assert.ok(off.diagnostics.length > 0 && off.diagnostics.every((d) => d.rule !== 'shared-plain-rmw'));
});

test('exit 2 with one sentence on a missing file, no files, or an unknown rule', () => {
  for (const args of [['no/such/file.js'], [], [`${fixtures}/check-then-act.js`, '--disable', 'no-such-rule']]) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^parprof lint: /);
  }
});

test('a file that does not parse is an input error (exit 2), with the place it stopped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-lint-'));
  writeFileSync(join(dir, 'broken.ts'), 'const a = new Int32Array(new SharedArrayBuffer(4));\nfunction (((\n');
  const r = cli(join(dir, 'broken.ts'), '--json');
  assert.equal(r.code, 2);
});
