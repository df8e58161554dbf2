import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionRow } from '../../src/protocol/report';
import { buildPstatsTable, PSTATS_SORT_KEYS, pyFixed, sortPstatsRows, stdName } from '../../src/core/exports/pstats';
import { pstatsSectionProblems } from './formatCheck';

const row = (name: string, file: string, line: number, ncalls: number | null, prim: number | null, tt: number, ct: number): FunctionRow => ({
  threadId: 0,
  name,
  file,
  line,
  column: 1,
  ncalls,
  primitiveCalls: prim,
  tottimeMs: tt,
  cumtimeMs: ct,
});

const rows = [
  row('fib', '/app/fib.js', 1, 43, 3, 2, 9),
  row('main', '/app/main.js', 10, 1, 1, 1, 12),
  row('helper', '/app/a.js', 30, 7, 7, 5, 6),
  row('(garbage collector)', '', 0, null, null, 0.5, 0.5),
];

test('prints exactly the layout of pstats print_stats', () => {
  const text = buildPstatsTable(rows, { sort: ['cumulative'], baseDir: '/app' });
  assert.equal(
    text,
    [
      '         51 function calls (11 primitive calls) in 0.009 seconds',
      '',
      '   Ordered by: cumulative time',
      '',
      '   ncalls  tottime  percall  cumtime  percall filename:lineno(function)',
      '        1    0.001    0.001    0.012    0.012 main.js:10(main)',
      '     43/3    0.002    0.000    0.009    0.003 fib.js:1(fib)',
      '        7    0.005    0.001    0.006    0.001 a.js:30(helper)',
      '        ?    0.001             0.001          {garbage collector}',
      '',
      '',
      '',
    ].join('\n'),
  );
});

test('the header omits primitive calls when they equal the total, and restrictions are reported like pstats', () => {
  const text = buildPstatsTable([rows[1]!, rows[2]!], { sort: ['time'], limit: 1 });
  assert.match(text, /^ {9}8 function calls in 0\.006 seconds\n\n {3}Ordered by: internal time\n {3}List reduced from 2 to 1 due to restriction <1>\n/);
  const user = buildPstatsTable([...rows, row('emit', 'node:events', 471, null, null, 1, 1)], { userOnly: true });
  assert.match(user, /List reduced from 5 to 4 due to restriction <'user code'>/);
  assert.doesNotMatch(user, /node:events/);
  assert.equal(buildPstatsTable([]), '         0 function calls in 0.000 seconds\n\n');
});

test('sorts by every pstats key', () => {
  const names = (keys: string[]) => sortPstatsRows(rows, keys).map((r) => r.name);
  assert.deepEqual(names(['calls']), ['fib', 'helper', 'main', '(garbage collector)']);
  assert.deepEqual(names(['ncalls']), names(['calls']));
  assert.deepEqual(names(['pcalls']), ['helper', 'fib', 'main', '(garbage collector)']);
  assert.deepEqual(names(['tottime']), ['helper', 'fib', 'main', '(garbage collector)']);
  assert.deepEqual(names(['time']), names(['tottime']));
  assert.deepEqual(names(['cumtime']), ['main', 'fib', 'helper', '(garbage collector)']);
  assert.deepEqual(names(['cumulative']), names(['cumtime']));
  assert.deepEqual(names(['filename']), ['helper', 'fib', 'main', '(garbage collector)']);
  assert.deepEqual(names(['file']), names(['filename']));
  assert.deepEqual(names(['module']), names(['filename']));
  assert.deepEqual(names(['line']), ['(garbage collector)', 'fib', 'main', 'helper']);
  assert.deepEqual(names(['name']), ['(garbage collector)', 'fib', 'helper', 'main']);
  assert.deepEqual(names(['nfl']), names(['name']));
  assert.deepEqual(names(['stdname']), ['helper', 'fib', 'main', '(garbage collector)']);
  assert.deepEqual(names(['calls', 'name']), names(['calls']));
  assert.equal(PSTATS_SORT_KEYS.length, 14);
  assert.throws(() => sortPstatsRows(rows, ['bogus']), /unknown sort key "bogus"/);
  assert.match(buildPstatsTable(rows, { sort: ['calls', 'name'] }), /Ordered by: call count, function name/);
});

test('standard names follow func_std_string', () => {
  assert.equal(stdName({ file: '/a/b.js', line: 3, name: 'f' }), '/a/b.js:3(f)');
  assert.equal(stdName({ file: '/a/b.js', line: 3, name: 'f' }, '/a'), 'b.js:3(f)');
  assert.equal(stdName({ file: '', line: 0, name: '(program)' }), '{program}');
});

test('times round as Python\'s "%8.3f" does: a tie goes to the even digit (0.0625 s → 0.062)', () => {
  // Expected text printed by Python 3.11's pstats for the same stats (tottime 0.125/0.0625 s, cumtime 0.375/0.1875 s).
  const text = buildPstatsTable([row('half', '/app/a.js', 3, 2, 2, 125, 375), row('tie', '/app/a.js', 9, 1, 1, 62.5, 187.5)], { sort: ['time'], baseDir: '/app' });
  assert.equal(
    text,
    [
      '         3 function calls in 0.188 seconds',
      '',
      '   Ordered by: internal time',
      '',
      '   ncalls  tottime  percall  cumtime  percall filename:lineno(function)',
      '        2    0.125    0.062    0.375    0.188 a.js:3(half)',
      '        1    0.062    0.062    0.188    0.188 a.js:9(tie)',
      '',
      '',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    [0.0625, 0.1875, 0.3125, 1.0625, 0.0005, 0, 2.5, 1.5].map((x) => pyFixed(x, x > 1.4 && x < 3 ? 0 : 3)),
    ['0.062', '0.188', '0.312', '1.062', '0.001', '0.000', '2', '2'],
  );
  assert.deepEqual(pstatsSectionProblems(text), []);
});
