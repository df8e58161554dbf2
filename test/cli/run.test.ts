// The built CLI (out/cli.js) as a user runs it: output, files and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/protocol/report';

const root = join(__dirname, '..', '..');
const cli = join(root, 'out', 'cli.js');
const programs = join(root, 'test', 'fixtures', 'core', 'programs');
const T = { timeout: 180_000 };

function parprof(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: programs, encoding: 'utf8', timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const tmp = () => mkdtempSync(join(tmpdir(), 'parprof-cli-'));

test('run prints a cProfile table per thread and merged, and writes every output file', T, () => {
  const out = tmp();
  const r = parprof(['run', 'fib.js', '--out', out, '--sort', 'ncalls']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /worker fib = 610/, 'program output passes through');
  assert.match(r.stdout, /Thread 0 "main" \(main, pid \d+\)/);
  assert.match(r.stdout, /Thread \d+ "fib-worker" \(worker, pid \d+\)/);
  assert.match(r.stdout, /All threads \(merged\)/);
  assert.match(r.stdout, /^ {9}\d+ function calls \(\d+ primitive calls\) in \d+\.\d{3} seconds$/m);
  assert.match(r.stdout, /Ordered by: call count/);
  assert.match(r.stdout, /^ {3}ncalls {2}tottime {2}percall {2}cumtime {2}percall filename:lineno\(function\)$/m);
  assert.match(r.stdout, /^ {4}465\/1 .* fib\.js:4\(fib\)$/m);
  assert.match(r.stdout, /^ {3}1973\/1 .* fib\.js:4\(fib\)$/m);
  assert.match(r.stdout, /^ {3}2438\/2 .* fib\.js:4\(fib\)$/m);
  const files = readdirSync(out);
  for (const f of ['report.json', 'trace.json', 'pstats.txt', 'report.html']) assert.ok(files.includes(f), f);
  assert.equal(files.filter((f) => f.endsWith('.cpuprofile')).length, 2);
  assert.match(readFileSync(join(out, 'pstats.txt'), 'utf8'), /Ordered by: call count/);
});

test('--json prints only the report on stdout; the program output goes to stderr', T, () => {
  const r = parprof(['run', 'fib.js', '--out', tmp(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.schema, 1);
  assert.equal(report.threads.length, 2);
  assert.match(r.stderr, /worker fib = 610/);
});

test('--fail-on-race exits 3 when races are found', T, () => {
  const r = parprof(['run', 'racy.js', '--out', tmp(), '--fail-on-race', '--json']);
  assert.equal(r.code, 3, r.stderr);
  assert.ok((JSON.parse(r.stdout) as Report).races.length >= 1);
});

test('usage and input errors exit 2 with one line on stderr', T, () => {
  const cases: [string[], RegExp][] = [
    [['run', 'missing.js'], /^parprof: missing\.js: no such file\n$/],
    [['run', '.'], /^parprof: \. is a directory; give the program's entry file/],
    [['run', 'notes.txt'], /^parprof: notes\.txt is not a JavaScript or TypeScript file/],
    [['run', 'fib.js', '--sort', 'bogus'], /^parprof: unknown sort key "bogus"; use one of calls, ncalls/],
    [['run', 'fib.js', '--bogus'], /^parprof: unknown option --bogus\n$/],
    [['run', 'fib.js', '--timeout'], /^parprof: --timeout needs a value\n$/],
    [['run', 'fib.js', '--timeout', 'soon'], /^parprof: --timeout expects a number, got "soon"\n$/],
    [['export', programs, '--format', 'pstats'], /holds neither report\.json nor a run directory/],
    [['export', programs, '--format', 'svg'], /--format must be one of chrome, cpuprofile, pstats, speedscope/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run', 'fib.js', '--out', 'notes.txt'], /^parprof: notes\.txt exists and is not a directory/],
    [['run', 'fib.js', '--out', 'notes.txt/sub'], /^parprof: cannot create notes\.txt\/sub: .*notes\.txt is a file, not a folder\n$/],
    [['run', 'fib.js', '--out', ''], /^parprof: --out needs a value\n$/],
    [['run', 'fib.js', '--deadlock-timeout', '-5'], /^parprof: --deadlock-timeout must be a number of milliseconds \(0 turns the watchdog off\)\n$/],
    [['run', 'fib.js', '--out='], /^parprof: --out needs a value\n$/],
    [['run'], /^parprof: no program given; run "parprof run --help" for usage\n$/],
    [['scale', 'fib.js', '--workers', '1', '--repeats', '2'], /^parprof: unknown option --repeats; give the program's own options after "--"/],
    [['scale', 'fib.js', '--profile', '--out', 'notes.txt/x'], /^parprof: cannot create notes\.txt\/x: /],
    [['export', join(root, 'test', 'fixtures', 'core', 'runs', 'basic'), '--format', 'pstats', '--out', join(programs, 'no-such-dir', 'p.txt')], /^parprof: cannot write .*p\.txt: no folder /],
    [['export'], /^parprof: no directory given; usage: parprof export <DIR>/],
    [[], /^usage:\n {2}parprof run <file>/],
  ];
  for (const [args, re] of cases) {
    const r = parprof(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    if (args.length) assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('a syntax error exits 2 with one sentence after the program\'s own error output', T, () => {
  const r = parprof(['run', 'syntax-error.js', '--out', tmp()]);
  assert.equal(r.code, 2);
  const last = r.stderr.trim().split('\n').pop()!;
  assert.match(last, /^parprof: the program failed to start: SyntaxError: Unexpected token .*syntax-error\.js:1\)$/);
});

test('a crashing program is still profiled (exit 0) and the report says how it ended', T, () => {
  const out = tmp();
  const r = parprof(['run', 'throws.js', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /crashed \(exit code 1\) — partial report/);
  assert.match(r.stdout, /error: TypeError: bad config/);
  assert.ok(existsSync(join(out, 'report.json')));
});

test('export converts a run folder to chrome, pstats, speedscope and cpuprofile', T, () => {
  const out = tmp();
  assert.equal(parprof(['run', 'fib.js', '--out', out]).code, 0);
  for (const [format, file] of [
    ['chrome', 'trace.json'],
    ['pstats', 'pstats.txt'],
    ['speedscope', 'speedscope.json'],
  ] as const) {
    const target = join(tmp(), file);
    const r = parprof(['export', out, '--format', format, '--out', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), target);
    const text = readFileSync(target, 'utf8');
    if (format === 'pstats') assert.match(text, /function calls/);
    else assert.ok(JSON.parse(text));
  }
  const dir = tmp();
  const r = parprof(['export', out, '--format', 'cpuprofile', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length, 2);
  // A raw run directory works too (analysed on the fly).
  const raw = parprof(['export', join(out, 'run'), '--format', 'pstats', '--out', join(tmp(), 'p.txt')]);
  assert.equal(raw.code, 0, raw.stderr);
});

test('export of a raw run directory says what its analysis found (warnings on stderr); of a report folder, nothing', T, () => {
  const out = tmp();
  assert.equal(parprof(['run', 'crash-worker.js', '--out', out]).code, 0);
  const raw = parprof(['export', join(out, 'run'), '--format', 'pstats', '--out', join(tmp(), 'p.txt')]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.match(raw.stderr, /^warning: Worker 1 \(crasher\) crashed: Error: worker went boom \(at .*crash-worker\.js:4\)$/m);
  const done = parprof(['export', out, '--format', 'pstats', '--out', join(tmp(), 'q.txt')]);
  assert.equal(done.stderr, '');
});

test('a reader that stops early (run … | head) ends the echo, not the run: exit 0 and every file written', T, async () => {
  const out = tmp();
  const child = spawn(process.execPath, [cli, 'run', 'fib.js', '--out', out], { cwd: programs, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Close our end after the first chunk, as `head -1` does.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  for (const f of ['report.json', 'trace.json', 'pstats.txt', 'report.html']) assert.ok(existsSync(join(out, f)), f);
});

test('export --out naming an existing folder writes the format\'s usual file name into it', T, () => {
  const dir = tmp();
  const basic = join(root, 'test', 'fixtures', 'core', 'runs', 'basic');
  for (const [format, file] of [
    ['pstats', 'pstats.txt'],
    ['chrome', 'trace.json'],
  ]) {
    const r = parprof(['export', basic, '--format', format!, '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(dir, file!));
  }
  assert.deepEqual(readdirSync(dir).sort(), ['pstats.txt', 'trace.json']);
});
