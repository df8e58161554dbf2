/**
 * Writes a report's files into the output directory: report.json, trace.json (Chrome trace),
 * one .cpuprofile per thread, pstats.txt and a standalone report.html.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Report } from '../protocol/report';
import { UserError } from './api';
import { writeChromeTrace } from './exports/chromeTrace';
import { buildCpuProfile, cpuProfileFileName } from './exports/cpuprofile';
import { slicesByLane } from './exports/laneStacks';
import { buildPstatsReport } from './exports/pstats';
import { buildHtml } from './reportPage';

/** Options for writing outputs. */
export interface WriteOptions {
  /** pstats sort keys for pstats.txt (default cumulative). */
  sort?: string[];
}

/** Paths of the written files. */
export interface WrittenOutputs {
  report: string;
  trace: string;
  pstats: string;
  html: string;
  cpuprofiles: string[];
}

/**
 * Makes sure `dir` (absolute) can take a run's results before the program runs: creates it and
 * any missing parents one level at a time (Node's recursive mkdir spins forever below /proc), or
 * throws a UserError naming the path as the user gave it (`shown`) and why it cannot be used.
 */
export function prepareOutDir(dir: string, shown: string): void {
  const missing: string[] = [];
  let existing = dir;
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  if (existing === dir && !statSync(dir).isDirectory()) throw new UserError(`${shown} exists and is not a directory; give a folder for the results`);
  if (existing !== dir && !statSync(existing).isDirectory()) throw new UserError(`cannot create ${shown}: ${existing} is a file, not a folder`);
  try {
    for (const d of missing) mkdirSync(d);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EROFS' ? 'read-only file system' : (e.code ?? e.message);
    throw new UserError(`cannot write the results to ${shown}: ${why}`);
  }
}

/** Writes every output file of a report into outDir (created when missing). */
export function writeOutputs(report: Report, outDir: string, opts: WriteOptions = {}): WrittenOutputs {
  mkdirSync(outDir, { recursive: true });
  // Profiles of an earlier run into the same folder would be mistaken for this run's threads.
  for (const name of readdirSync(outDir)) if (/^thread-\d+-.*\.cpuprofile$/.test(name)) rmSync(join(outDir, name), { force: true });
  const out: WrittenOutputs = {
    report: join(outDir, 'report.json'),
    trace: join(outDir, 'trace.json'),
    pstats: join(outDir, 'pstats.txt'),
    html: join(outDir, 'report.html'),
    cpuprofiles: [],
  };
  writeFileSync(out.report, JSON.stringify(report));
  writeChromeTrace(report, out.trace);
  writeFileSync(out.pstats, buildPstatsReport(report, { sort: opts.sort, baseDir: report.program.cwd || undefined }));
  const lanes = slicesByLane(report);
  report.threads.forEach((t, lane) => {
    const p = join(outDir, cpuProfileFileName(t));
    writeFileSync(p, JSON.stringify(buildCpuProfile(report, lane, lanes[lane])));
    out.cpuprofiles.push(p);
  });
  writeFileSync(out.html, buildHtml(report, outDir));
  return out;
}
