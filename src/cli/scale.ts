/** `parprof scale`: run a program at several worker counts and print speedup, efficiency and the Amdahl fit. */
import { UserError } from '../core/api';
import { runScaling, amdahlSpeedup, type ScalingOptions } from '../core/scaling';
import { timeoutMs } from '../core/runner';
import type { ScalingResult, WorkerVariable } from '../protocol/scaling';

const USAGE =
  'usage: parprof scale <file> [--workers 1,2,4] [--env NAME | --arg TEMPLATE] [--repeat N] [--out DIR] [--json] [--profile] [--timeout SEC] [-- program args...]';

/** Parses `parprof scale` arguments into scaling options. */
export function parseScaleArgs(argv: string[]): {
  opts: ScalingOptions;
  json: boolean;
} {
  let file: string | undefined;
  let workers: number[] | undefined;
  let variable: WorkerVariable | undefined;
  let repeat: number | undefined;
  let outDir: string | undefined;
  let json = false;
  let profile = false;
  let timeoutSec: number | null = null;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    // "--name=value" as run takes it.
    const eq = argv[i]!.startsWith('--') ? argv[i]!.indexOf('=') : -1;
    const a = eq > 0 ? argv[i]!.slice(0, eq) : argv[i]!;
    const value = (): string => {
      const v = eq > 0 ? argv[i]!.slice(eq + 1) : argv[++i];
      if (v === undefined || v.trim() === '') throw new UserError(`${a} needs a value; ${USAGE}`);
      return v;
    };
    if ((a === '--json' || a === '--profile') && eq > 0) throw new UserError(`${a} takes no value`);
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    } else if (a === '--workers' || a === '-w') {
      const raw = value();
      workers = raw.split(',').map((s) => Number(s.trim()));
      if (workers.some((p) => !Number.isInteger(p) || p < 1))
        throw new UserError(`--workers takes positive whole numbers separated by commas, not "${raw}"`);
    } else if (a === '--env') {
      if (variable) throw new UserError('use either --env or --arg, not both');
      const name = value();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`--env takes a variable name, not "${name}"`);
      variable = { mode: 'env', name };
    } else if (a === '--arg') {
      if (variable) throw new UserError('use either --env or --arg, not both');
      const template = value();
      if (!template.includes('{n}')) throw new UserError(`--arg needs {n} where the worker count goes, e.g. --arg "--threads={n}"`);
      variable = { mode: 'arg', template };
    } else if (a === '--repeat' || a === '-n') {
      repeat = Number(value());
      if (!Number.isInteger(repeat) || repeat < 1) throw new UserError('--repeat takes a positive whole number');
    } else if (a === '--out') outDir = value();
    else if (a === '--json') json = true;
    else if (a === '--profile') profile = true;
    else if (a === '--timeout') {
      timeoutSec = Number(value());
      if (!(timeoutSec > 0)) throw new UserError('--timeout takes a number of seconds');
      // The plain timed runs use setTimeout too: past its range (~24.8 days) it fires at once.
      timeoutSec = Math.min(timeoutSec, (timeoutMs(timeoutSec) ?? 0) / 1000);
    } else if (a.startsWith('-') && a !== '-') {
      // The program's own options go after "--": a mistyped one (--repeats 5) must not reach it unnoticed.
      throw new UserError(`unknown option ${a}; give the program's own options after "--"; ${USAGE}`);
    } else if (file === undefined) file = a;
    else args.push(a);
  }
  if (!file) throw new UserError(`missing program file; ${USAGE}`);
  return {
    opts: {
      file,
      args,
      workers,
      variable: variable ?? { mode: 'env', name: 'WORKERS' },
      repeat,
      outDir,
      profile,
      timeoutSec,
    },
    json,
  };
}

/** Runs `parprof scale`; returns the exit code. */
export async function scaleCommand(argv: string[]): Promise<number> {
  const ours = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (ours.includes('--help') || ours.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { opts, json } = parseScaleArgs(argv);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  const tty = process.stderr.isTTY;
  try {
    const result = await runScaling({
      ...opts,
      signal: ac.signal,
      onProgress: (p) => {
        if (tty) process.stderr.write(`\r\x1b[K[${p.index}/${p.total}] ${p.message}`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatScaling(result));
    return 0;
  } finally {
    process.off('SIGINT', onSig);
  }
}

/** The human-readable scaling table. */
export function formatScaling(r: ScalingResult): string {
  const how = r.variable.mode === 'env' ? `${r.variable.name}=p` : r.variable.template.replaceAll('{n}', 'p');
  const lines = [`Scaling of ${r.file} (${how}, ${r.repeat} run${r.repeat === 1 ? '' : 's'} per count, ${r.cores} cores)`, ''];
  const trees = r.rows.some((row) => row.efficiencyTree);
  const head = ['workers', 'median ms', 'min-max ms', 'spread', 'speedup', 'efficiency', 'Karp-Flatt'];
  if (trees) head.push('load bal', 'serialis', 'transfer', 'profile');
  const table = [head];
  for (const row of r.rows) {
    const cells = [
      String(row.workers),
      row.medianMs.toFixed(1),
      `${row.minMs.toFixed(0)}-${row.maxMs.toFixed(0)}`,
      pct(row.spread),
      row.speedup === null ? '-' : `${row.speedup.toFixed(2)}x`,
      row.efficiency === null ? '-' : pct(row.efficiency),
      row.karpFlatt === null ? '-' : row.karpFlatt.toFixed(3),
    ];
    if (trees) {
      const t = row.efficiencyTree;
      cells.push(t ? pct(t.loadBalance) : '-', t ? pct(t.serialisation) : '-', t ? pct(t.transfer) : '-');
      cells.push(row.runs.find((x) => x.profiled)?.outDir ?? '-');
    }
    table.push(cells);
  }
  const widths = head.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) lines.push(row.map((cell, c) => (c === row.length - 1 && trees ? cell : cell.padStart(widths[c]!))).join('  '));
  lines.push('');
  const f = r.serialFraction;
  if (f) {
    const ceiling = f.value > 0 ? `, so speedup can never pass ${(1 / f.value).toFixed(1)}x` : '';
    lines.push(`Amdahl fit: serial fraction ${f.value.toFixed(3)} (95% CI ${f.low.toFixed(3)}-${f.high.toFixed(3)})${ceiling}.`);
    const pMax = Math.max(...r.rows.map((row) => row.workers));
    lines.push(`  predicted speedup at ${pMax * 2} workers: ${amdahlSpeedup(f.value, pMax * 2).toFixed(2)}x`);
  }
  const c = r.computeSerialFraction;
  if (c)
    lines.push(
      `  on the program's own compute times: ${c.value.toFixed(3)} (95% CI ${c.low.toFixed(3)}-${c.high.toFixed(3)}), without Node start-up and exit`,
    );
  if (r.gustafson.length)
    lines.push(
      `Gustafson scaled speedup: ${r.gustafson.map((g) => `${g.workers} worker${g.workers === 1 ? '' : 's'} ${g.scaledSpeedup.toFixed(2)}x`).join(', ')}`,
    );
  for (const w of r.warnings) lines.push(`note: ${w}`);
  return lines.join('\n') + '\n';
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
