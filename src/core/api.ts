/**
 * The one core entry point the CLI and the extension both call, so what the CLI prints and
 * what the panel shows can never disagree. Implementations live in runner.ts / analyse.ts /
 * outputs.ts; this file fixes the shapes other layers build against.
 */
import type { Report } from '../protocol/report';

/** How to run and profile one program. */
export interface ProfileOptions {
  /** Program entry file (absolute or relative to cwd). */
  file: string;
  args: string[];
  cwd?: string;
  /** The node binary to run the program with (default: `node` on PATH). */
  node?: string;
  /** Output directory for report.json, trace.json, … (default: .parprof/<timestamp> in cwd). */
  outDir?: string;
  env?: Record<string, string>;
  /** Extra node flags placed before the agent preload. */
  nodeArgs?: string[];
  sampleIntervalUs?: number;
  counts?: boolean;
  races?: boolean;
  raceSample?: number | null;
  instrumentDeps?: boolean;
  locks?: boolean;
  timeoutSec?: number | null;
  deadlockTimeoutMs?: number;
  backend?: 'auto' | 'inspector' | 'v8-profiler-next';
  /** Cancel: ends the whole process tree within a second, keeps the partial report. */
  signal?: AbortSignal;
  /** Program output, passed through unchanged (default: this process's stdout/stderr). */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Progress for long work ("running", "analysing", "writing"). */
  onProgress?: (message: string) => void;
}

/** Result of profiling: the report and where its files are. */
export interface ProfileResult {
  report: Report;
  /** Directory holding report.json, trace.json, pstats.txt, *.cpuprofile, report.html. */
  outDir: string;
  /** Directory holding the raw per-thread event files. */
  runDir: string;
}

/** A user-caused problem (bad file, bad flag): one clear sentence, CLI exit code 2. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
