/**
 * `parprof run <file>`: profiles the program in every thread, prints a cProfile table per
 * thread and merged, and writes report.json, trace.json, *.cpuprofile, pstats.txt, report.html.
 */
import { isAbsolute, join, relative } from 'node:path';
import { UserError } from '../core/api';
import { profileProgram } from '../core/index';
import { buildPstatsTable, checkSortKeys, threadTitle } from '../core/exports/pstats';
import type { Report } from '../protocol/report';
import { parseArgs } from './args';

const USAGE = `usage: parprof run <file> [--out DIR] [--no-races] [--timeout SEC] [--sample-interval US]
                  [--sort KEY] [--json] [--fail-on-race] [--instrument-deps]
                  [--race-sample RATE] [--deadlock-timeout MS] [--no-counts] [--no-locks]
                  [--limit N] [--all] [--node PATH] [--backend auto|inspector|v8-profiler-next]
                  [-- program args...]`;

const SPEC = {
  out: 'string',
  races: 'boolean',
  timeout: 'number',
  'sample-interval': 'number',
  sort: 'list',
  json: 'boolean',
  'fail-on-race': 'boolean',
  'instrument-deps': 'boolean',
  limit: 'number',
  counts: 'boolean',
  locks: 'boolean',
  node: 'string',
  backend: 'string',
  'race-sample': 'number',
  'deadlock-timeout': 'number',
  all: 'boolean',
  help: 'boolean',
} as const;

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** The human summary printed after the tables. */
export function summaryText(report: Report, outDir: string): string {
  const m = report.metrics;
  const lines: string[] = [];
  const p = report.program;
  lines.push(
    `${p.outcome}${p.exitCode !== null ? ` (exit code ${p.exitCode})` : ''}${p.signal ? ` (${p.signal})` : ''}${report.partial ? ' — partial report' : ''}`,
  );
  if (p.error) lines.push(`error: ${p.error}`);
  lines.push(
    `wall ${fmt(report.wallMs)} ms · cpu ${fmt(m.cpuMs)} ms${typeof m.profilerCpuMs === 'number' && m.profilerCpuMs > 0 ? ` (+${fmt(m.profilerCpuMs)} ms profiler)` : ''} · parallelism ${fmt(m.parallelism, 2)} · efficiency ${fmt(m.efficiency * 100, 0)}% · ` +
      `${report.threads.length} thread(s), ${m.threadsUsed} busy · serial fraction ${m.observedSerialFraction === null ? '—' : fmt(m.observedSerialFraction * 100, 0) + '%'}`,
  );
  lines.push(`sampling: ${report.tool.backend} (${report.tool.backendReason}); call counts ${report.tool.callCounts ? 'on' : 'off'}`);
  lines.push(`races: ${report.races.length} · locks: ${report.locks.length} · deadlocks: ${report.deadlocks.length}`);
  for (const r of report.races.slice(0, 10)) {
    const sites = r.accesses.map((a) => `${a.op} in thread ${a.threadId} at ${a.file}:${a.line}`).join(' vs ');
    lines.push(`  ${r.kind} race on ${r.buffer}[${r.byteOffset}..${r.byteOffset + r.byteLength}): ${sites}`);
  }
  for (const d of report.deadlocks) lines.push(`  deadlock (${d.kind}): ${d.message}`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  const rel = relative(process.cwd(), outDir);
  const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? outDir : rel;
  lines.push(`wrote ${shown}/{report.json,report.html,trace.json,pstats.txt,*.cpuprofile}; open ${join(shown, 'report.html')}`);
  return lines.join('\n') + '\n';
}

/** The per-thread and merged cProfile tables. */
export function tablesText(report: Report, sort: string[], limit: number | undefined, userOnly = true): string {
  const base = report.program.cwd || undefined;
  const parts: string[] = [];
  for (const t of report.threads) {
    const rows = report.functions.filter((r) => r.threadId === t.id);
    parts.push(`${threadTitle(t)} cpu ${fmt(t.cpuMs)} ms\n\n` + buildPstatsTable(rows, { sort, limit, baseDir: base, userOnly }));
  }
  if (report.threads.length > 1) {
    parts.push('All threads (merged)\n\n' + buildPstatsTable(report.functions.filter((r) => r.threadId === -1), { sort, limit, baseDir: base, userOnly }));
  }
  return parts.join('');
}

/**
 * This process's stdout or stderr for as long as someone reads it: once the reader has gone
 * (`parprof run … | head`, EPIPE), writes stop and the run goes on to write its report.
 */
function whileRead(stream: NodeJS.WriteStream): (data: string | Buffer) => void {
  let gone = false;
  // Stays for the life of the command: a write in flight may fail after the run returned.
  stream.on('error', () => {
    gone = true;
  });
  return (data) => {
    if (!gone && !stream.destroyed) stream.write(data);
  };
}

/** Runs `parprof run`; returns the exit code (0 profiled, 2 usage/input, 3 --fail-on-race with races). */
export async function runCommand(argv: string[]): Promise<number> {
  const { flags, positionals, rest } = parseArgs(argv, SPEC as Record<string, 'boolean' | 'string' | 'number' | 'list'>, { '-h': 'help' });
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const [file, ...progArgs] = positionals;
  if (!file) throw new UserError('no program given; run "parprof run --help" for usage');
  const sort = (flags.sort as string[] | undefined) ?? ['cumulative'];
  checkSortKeys(sort);
  const backend = flags.backend as string | undefined;
  if (backend !== undefined && !['auto', 'inspector', 'v8-profiler-next'].includes(backend)) {
    throw new UserError(`--backend must be auto, inspector or v8-profiler-next`);
  }
  const interval = flags['sample-interval'] as number | undefined;
  if (interval !== undefined && (interval < 10 || interval > 1e6)) throw new UserError('--sample-interval must be between 10 and 1000000 µs');
  const timeout = flags.timeout as number | undefined;
  if (timeout !== undefined && timeout <= 0) throw new UserError('--timeout must be a positive number of seconds');
  const raceSample = flags['race-sample'] as number | undefined;
  if (raceSample !== undefined && !(raceSample > 0 && raceSample <= 1)) throw new UserError('--race-sample must be in (0, 1]');
  const deadlockMs = flags['deadlock-timeout'] as number | undefined;
  if (deadlockMs !== undefined && deadlockMs < 0) throw new UserError('--deadlock-timeout must be a number of milliseconds (0 turns the watchdog off)');
  const json = flags.json === true;
  const limit = flags.limit as number | undefined;

  const ac = new AbortController();
  // First Ctrl-C: stop the program and keep the partial report; a second one leaves at once.
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('parprof: stopping the program; writing the partial report (Ctrl-C again to quit now)\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const out = whileRead(process.stdout);
  const err = whileRead(process.stderr);
  try {
    const { report, outDir } = await profileProgram(
      {
        file,
        args: [...progArgs, ...rest],
        outDir: flags.out as string | undefined,
        node: flags.node as string | undefined,
        races: flags.races as boolean | undefined,
        counts: flags.counts as boolean | undefined,
        locks: flags.locks as boolean | undefined,
        instrumentDeps: flags['instrument-deps'] === true,
        sampleIntervalUs: interval,
        timeoutSec: timeout ?? null,
        raceSample: raceSample ?? null,
        deadlockTimeoutMs: deadlockMs,
        backend: backend as 'auto' | 'inspector' | 'v8-profiler-next' | undefined,
        signal: ac.signal,
        // With --json our stdout carries only the report: the program's output goes to stderr.
        onStdout: json ? err : out,
        onStderr: err,
      },
      { sort },
    );
    if (json) out(JSON.stringify(report) + '\n');
    else out('\n' + tablesText(report, sort, limit === undefined ? 40 : limit <= 0 ? undefined : limit, flags.all !== true) + summaryText(report, outDir));
    if (flags['fail-on-race'] === true && report.races.length > 0) return 3;
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
