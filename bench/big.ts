/**
 * Big programs (issue 8, requirement 3): 64 workers at once, and a long run that writes 1 GiB
 * of CPU samples. For each: the program's peak memory with and without the profiler (every
 * thread streams its records and 10-second profile chunks to disk), the core's peak memory and
 * time to analyse the run directory (chunk by chunk, summarising the timeline past its budget),
 * and what the report says it summarised. Writes bench/bigResults.md.
 * Usage: node --import tsx bench/big.ts [--only workers|samples] [--gib N] [--rounds N] [--no-write]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../src/core/runner';
import { median } from '../src/core/scaling/formulas';

const root = join(__dirname, '..');
const argv = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ONLY = value('only');
const GIB = Number(value('gib') ?? 1);
const ROUNDS = Math.max(1, Number(value('rounds') ?? 3));
const MiB = 1024 * 1024;

/** Peak resident memory (MiB) of every process whose command line names `marker`, sampled every 100 ms. */
function watchRss(marker: string): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        // the process ended between listing and reading
      }
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Bytes under a directory, and bytes of its .cpuprofile files. */
function sizes(dir: string): { all: number; samples: number } {
  let all = 0;
  let samples = 0;
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const s = statSync(join(dir, name)).size;
    all += s;
    if (name.endsWith('.cpuprofile')) samples += s;
  }
  return { all, samples };
}

/** The core on a run directory in its own process: peak RSS (MiB), seconds, and the report's warnings. */
function analyse(runDir: string, outDir: string): { rssMiB: number; seconds: number; warnings: string[] } {
  const out = join(outDir, 'pstats.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, join(root, 'out', 'cli.js'), 'export', runDir, '--format', 'pstats', '--out', out], { encoding: 'utf8' });
  const m = /(\d+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`analysis failed: ${r.stderr}`);
  // The export prints the warnings of the analysis (what was summarised) on stderr.
  const warnings = [...(r.stderr ?? '').matchAll(/^warning: (.*)$/gm)].map((x) => x[1]!);
  return { rssMiB: Number(m[1]) / 1024, seconds: Number(m[2]), warnings };
}

async function profiled(file: string, env: Record<string, string>, opts: { sampleIntervalUs?: number; stopAtBytes?: number; stopFile?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'parprof-big-'));
  const runDir = join(dir, 'run');
  const rss = watchRss(file);
  let sizeTimer: NodeJS.Timeout | null = null;
  if (opts.stopAtBytes && opts.stopFile) {
    sizeTimer = setInterval(() => {
      if (sizes(runDir).samples >= opts.stopAtBytes!) writeFileSync(opts.stopFile!, '');
    }, 1000);
  }
  const t0 = performance.now();
  const r = await runProgram({ file, args: [], cwd: root, env, node: process.execPath, sampleIntervalUs: opts.sampleIntervalUs, onStdout: () => {}, onStderr: () => {} }, runDir);
  const wallMs = performance.now() - t0;
  if (sizeTimer) clearInterval(sizeTimer);
  const peak = rss.stop();
  if (r.outcome.exitCode !== 0) throw new Error(`${file} under the profiler: ${r.outcome.outcome} ${r.outcome.stderrTail}`);
  return { dir, runDir, wallMs, peakMiB: peak, ...sizes(runDir) };
}

async function plain(file: string, env: Record<string, string>) {
  const rss = watchRss(file);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited with ${code}`))));
  });
  return { wallMs: performance.now() - t0, peakMiB: rss.stop() };
}

async function manyWorkers(): Promise<string[]> {
  const file = join(__dirname, 'kernels', 'manyWorkers.js');
  const p: { wallMs: number; peakMiB: number }[] = [];
  const q: Awaited<ReturnType<typeof profiled>>[] = [];
  const core: ReturnType<typeof analyse>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    p.push(await plain(file, {}));
    const run = await profiled(file, {}, {});
    q.push(run);
    core.push(analyse(run.runDir, run.dir));
    const pstats = readFileSync(join(run.dir, 'pstats.txt'), 'utf8');
    const threads = new Set([...pstats.matchAll(/^Thread (\d+) /gm)].map((x) => x[1]));
    if (threads.size !== 65) throw new Error(`expected 65 threads, the pstats report has ${threads.size}`);
    rmSync(run.dir, { recursive: true, force: true });
    process.stderr.write(`  64 workers: round ${i + 1}/${ROUNDS}\r`);
  }
  const pw = median(p.map((x) => x.wallMs));
  const qw = median(q.map((x) => x.wallMs));
  return [
    `| 64 workers at once (manyWorkers.js), 65 threads in every report | ${pw.toFixed(0)} ms, ${median(p.map((x) => x.peakMiB)).toFixed(0)} MiB | ${qw.toFixed(0)} ms (${(qw / pw).toFixed(2)}×), ${median(q.map((x) => x.peakMiB)).toFixed(0)} MiB | ${(median(q.map((x) => x.all)) / MiB).toFixed(1)} MiB | ${median(core.map((c) => c.rssMiB)).toFixed(0)} MiB, ${median(core.map((c) => c.seconds)).toFixed(1)} s | ${core[0]!.warnings.filter((w) => /summarised/.test(w)).length ? 'timeline summarised' : 'nothing'} |`,
  ];
}

async function gibOfSamples(): Promise<string[]> {
  const file = join(__dirname, 'kernels', 'longRun.js');
  const dir = mkdtempSync(join(tmpdir(), 'parprof-big-stop-'));
  const stopFile = join(dir, 'stop');
  const target = GIB * 1024 * MiB;
  process.stderr.write(`  long run: until ${GIB} GiB of samples (32 workers, 50 µs sampling)…\n`);
  const run = await profiled(file, { WORKERS: '32', STOP_FILE: stopFile }, { sampleIntervalUs: 50, stopAtBytes: target, stopFile });
  rmSync(dir, { recursive: true, force: true });
  const core = analyse(run.runDir, run.dir);
  rmSync(run.dir, { recursive: true, force: true });
  const summarised = core.warnings.filter((w) => /summarised|flat/.test(w));
  return [
    `| long run, 32 workers waking every 20 ms, 50 µs sampling (longRun.js), until ${GIB} GiB of samples | — | ${(run.wallMs / 1000).toFixed(0)} s, ${run.peakMiB.toFixed(0)} MiB | ${(run.samples / MiB).toFixed(0)} MiB of .cpuprofile, ${(run.all / MiB).toFixed(0)} MiB in all | ${core.rssMiB.toFixed(0)} MiB, ${core.seconds.toFixed(1)} s | ${summarised.length ? `${summarised.length} thread timelines summarised (function times exact)` : 'nothing'} |`,
  ];
}

async function main(): Promise<void> {
  const rows: string[] = [];
  if (!ONLY || ONLY === 'workers') rows.push(...(await manyWorkers()));
  if (!ONLY || ONLY === 'samples') rows.push(...(await gibOfSamples()));
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
  } catch {
    // not Linux
  }
  const body = [
    '| program | plain node: wall, peak RSS | profiled: wall, peak RSS of the program | run directory | core: peak RSS, time to analyse | summarised |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `- machine: ${availableParallelism()} cores, ${model}; node ${process.version}; ${new Date().toISOString()}; load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')}`,
  ];
  process.stdout.write(`${body.join('\n')}\n`);
  if (!argv.includes('--no-write') && !ONLY) {
    const head = ['# Big programs — latest figures (issue 8, requirement 3)', '', 'Written by `npm run bench:big` (bench/big.ts). Peak RSS is sampled every 100 ms from /proc.', ''];
    writeFileSync(join(__dirname, 'bigResults.md'), [...head, ...body, ''].join('\n'));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
