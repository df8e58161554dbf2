/**
 * `parprof export <DIR> --format chrome|cpuprofile|pstats|speedscope`: converts a finished
 * run (an output folder with report.json, or a raw run directory) to another tool's format.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { analyseRunDir } from '../core/analyse';
import { UserError } from '../core/api';
import { writeChromeTrace } from '../core/exports/chromeTrace';
import { buildCpuProfile, cpuProfileFileName } from '../core/exports/cpuprofile';
import { buildPstatsReport, checkSortKeys } from '../core/exports/pstats';
import { buildSpeedscope } from '../core/exports/speedscope';
import { RUN_MANIFEST } from '../protocol/events';
import { REPORT_SCHEMA, type Report } from '../protocol/report';
import { parseArgs } from './args';

const USAGE = 'usage: parprof export <DIR> --format chrome|cpuprofile|pstats|speedscope [--out FILE|DIR] [--sort KEY]';
const FORMATS = ['chrome', 'cpuprofile', 'pstats', 'speedscope'];

/** Loads the report of an output folder (report.json) or analyses a raw run directory. */
export function loadReportFrom(dir: string): Report {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new UserError(`${dir}: no such directory`);
  if (!statSync(abs).isDirectory()) throw new UserError(`${dir} is not a directory; give the folder "parprof run" wrote`);
  const reportPath = join(abs, 'report.json');
  if (existsSync(reportPath)) {
    let r: Report;
    try {
      r = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
    } catch (err) {
      throw new UserError(`${reportPath} is not valid JSON (${(err as Error).message})`);
    }
    if (r.schema !== REPORT_SCHEMA) throw new UserError(`${reportPath} has schema ${String(r.schema)}; this parprof reads schema ${REPORT_SCHEMA}`);
    return r;
  }
  if (existsSync(join(abs, RUN_MANIFEST))) return analyseRunDir(abs);
  if (existsSync(join(abs, 'run', RUN_MANIFEST))) return analyseRunDir(join(abs, 'run'));
  throw new UserError(`${dir} holds neither report.json nor a run directory`);
}

/** Runs `parprof export`; writes next to the report unless --out is given, prints the written paths. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { format: 'string', out: 'string', sort: 'list', help: 'boolean' }, { '-f': 'format', '-o': 'out', '-h': 'help' });
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const [dir, extra] = positionals;
  if (!dir) throw new UserError(`no directory given; ${USAGE}`);
  if (extra) throw new UserError(`unexpected argument "${extra}"; ${USAGE}`);
  const format = flags.format as string | undefined;
  if (!format || !FORMATS.includes(format)) throw new UserError(`--format must be one of ${FORMATS.join(', ')}`);
  const sort = flags.sort as string[] | undefined;
  if (sort) checkSortKeys(sort);
  const base = resolve(dir);
  const analysed = !existsSync(join(base, 'report.json'));
  const report = loadReportFrom(dir);
  // A raw run directory was analysed just now: say what was summarised or lost, as `parprof run` does.
  if (analysed) for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  const out = flags.out as string | undefined;
  const written: string[] = [];
  // --out names the file, or a folder to write the format's usual file name into.
  const target = (defaultName: string) => {
    if (!out) return join(base, defaultName);
    const p = resolve(out);
    return existsSync(p) && statSync(p).isDirectory() ? join(p, defaultName) : p;
  };
  const writeWith = (p: string, writer: (p: string) => void) => {
    try {
      writer(p);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? `no folder ${dirname(p)}` : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : (e.code ?? e.message);
      throw new UserError(`cannot write ${p}: ${why}`);
    }
    written.push(p);
  };
  const write = (defaultName: string, text: string) => writeWith(target(defaultName), (p) => writeFileSync(p, text));
  switch (format) {
    case 'chrome':
      writeWith(target('trace.json'), (p) => writeChromeTrace(report, p));
      break;
    case 'pstats':
      write('pstats.txt', buildPstatsReport(report, { sort, baseDir: report.program.cwd || undefined }));
      break;
    case 'speedscope':
      write('speedscope.json', JSON.stringify(buildSpeedscope(report)));
      break;
    case 'cpuprofile': {
      const outDir = out ? resolve(out) : base;
      if (out && (!existsSync(outDir) || !statSync(outDir).isDirectory())) throw new UserError(`--out ${out}: for cpuprofile give an existing directory`);
      report.threads.forEach((t, lane) => writeWith(join(outDir, cpuProfileFileName(t)), (p) => writeFileSync(p, JSON.stringify(buildCpuProfile(report, lane)))));
      break;
    }
  }
  for (const p of written) process.stdout.write(p + '\n');
  return 0;
}
