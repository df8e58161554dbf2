/**
 * The public core API the CLI and the extension both call: profile a program (run it under
 * the agent, analyse what it recorded, write the outputs), or analyse an existing run dir.
 */
import { join, resolve } from 'node:path';
import { UserError, type ProfileOptions, type ProfileResult } from './api';
import { analyseRunDir } from './analyse';
import { prepareOutDir, writeOutputs, type WriteOptions } from './outputs';
import { checkEntryFile, runProgram } from './runner';

export { UserError } from './api';
export type { ProfileOptions, ProfileResult } from './api';
export { analyseRun, analyseRunDir } from './analyse';
export { loadRun, resolveSite, mapCallFrame } from './load';
export { writeOutputs } from './outputs';
export type { WriteOptions, WrittenOutputs } from './outputs';
export { buildPstatsTable, buildPstatsReport, PSTATS_SORT_KEYS } from './exports/pstats';
export { buildChromeTrace } from './exports/chromeTrace';
export { buildCpuProfile } from './exports/cpuprofile';
export { buildSpeedscope } from './exports/speedscope';

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

/**
 * Runs the program under the agent, analyses the run and writes report.json and the exports
 * into opts.outDir (default .parprof/<timestamp>; raw event files in its run/ folder).
 * A program that cannot start (syntax error, entry not loadable) throws a UserError after
 * its partial outputs are written; a crash or cancel returns a report marked partial.
 */
export async function profileProgram(opts: ProfileOptions, write: WriteOptions = {}): Promise<ProfileResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const outDir = resolve(cwd, opts.outDir ?? join('.parprof', timestamp()));
  // A wrong entry is said before any folder is made for its results.
  checkEntryFile(opts.file, cwd);
  prepareOutDir(outDir, opts.outDir ?? outDir);
  const runDir = join(outDir, 'run');
  opts.onProgress?.('running');
  await runProgram({ ...opts, cwd }, runDir);
  opts.onProgress?.('analysing');
  const report = analyseRunDir(runDir);
  opts.onProgress?.('writing');
  writeOutputs(report, outDir, write);
  if (report.program.outcome === 'failed-to-start') {
    throw new UserError(`the program failed to start: ${report.program.error ?? 'see its error output above'}`);
  }
  return { report, outDir, runDir };
}
