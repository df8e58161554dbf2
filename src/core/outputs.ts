/**
 * Writes a report's files into the output directory: report.json, trace.json (Chrome trace),
 * one .cpuprofile per thread, pstats.txt and a standalone report.html.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../protocol/report';
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
