/**
 * Runs shared-memory fixture programs under the real agent and reads their race markers.
 *
 * Marker convention in test/fixtures/races: a racing line ends with `// RACE:A` (several tags:
 * `// RACE:A,B`). Each tag is one expected report; its lines are the report's two access lines
 * (a tag on a single line = both accesses on that line, e.g. two workers running it). Code
 * strings of eval workers start on the line holding the comment EVAL in slashes-and-stars;
 * their lines count from there. A line `// parprof: instrumentDeps` asks for node_modules too.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { ProfileOptions } from '../../src/core/api';
import type { RaceReport, Report } from '../../src/protocol/report';

/** Repository root. */
export const ROOT = resolve(__dirname, '..', '..');

/** Why end-to-end tests cannot run yet (null when the agent bundle exists). */
export function agentMissing(): string | null {
  return existsSync(join(ROOT, 'out', 'agent.js')) ? null : 'out/agent.js is not built yet (npm run build)';
}

/** Runs one fixture under the agent and returns its report (program output is kept for failures). */
export async function profileFixture(file: string, opts: Partial<ProfileOptions> = {}): Promise<{ report: Report; output: string }> {
  const { profileProgram } = await import('../../src/core/index');
  const outDir = mkdtempSync(join(tmpdir(), 'parprof-h3-'));
  let output = '';
  const text = readFileSync(file, 'utf8');
  try {
    const r = await profileProgram({
      file,
      args: [],
      cwd: dirname(file),
      outDir,
      timeoutSec: 60,
      instrumentDeps: /^\/\/ parprof: instrumentDeps/m.test(text),
      onStdout: (b) => (output += b.toString()),
      onStderr: (b) => (output += b.toString()),
      ...opts,
    });
    return { report: r.report, output };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** "file:line" of an access as the markers name it ("[eval]:n" inside eval code strings). */
export function accessKey(a: { file: string; line: number }): string {
  return a.file.startsWith('[') || !a.file.includes('/') ? `[eval]:${a.line}` : `${basename(a.file)}:${a.line}`;
}

/** Unordered pair key of a race report. */
export function raceKey(r: RaceReport): string {
  return r.accesses
    .map(accessKey)
    .sort()
    .join(' <> ');
}

/** The race pairs a fixture's markers expect (sorted pair keys). */
export function expectedRaces(file: string): string[] {
  const files = [file];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/['"/](_[\w-]+\.m?[jt]s)['"]/g)) files.push(join(dirname(file), m[1]!));
  const byTag = new Map<string, string[]>();
  for (const f of files) {
    if (!existsSync(f)) continue;
    const lines = readFileSync(f, 'utf8').split('\n');
    let evalStart = -1;
    lines.forEach((line, i) => {
      if (line.includes('/*EVAL*/')) evalStart = i + 1;
      else if (evalStart > 0 && line.startsWith('`')) evalStart = -evalStart; // string closed
      const m = /\/\/ RACE:([A-Z,]+)/.exec(line);
      if (!m) return;
      const key = evalStart > 0 ? `[eval]:${i + 1 - evalStart + 1}` : `${basename(f)}:${i + 1}`;
      for (const tag of m[1]!.split(',')) byTag.set(tag, [...(byTag.get(tag) ?? []), key]);
    });
  }
  return [...byTag.values()].map((keys) => (keys.length === 1 ? [keys[0]!, keys[0]!] : keys).sort().join(' <> ')).sort();
}

/** One line per race, for assertion messages. */
export function describeRaces(races: RaceReport[]): string {
  return races.map((r) => `${r.kind} ×${r.count} @${r.byteOffset}+${r.byteLength}: ${r.accesses.map((a) => `t${a.threadId} ${a.op} ${accessKey(a)}`).join(' / ')}`).join('\n');
}
