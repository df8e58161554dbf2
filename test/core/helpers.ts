/** Shared helpers of the core tests: profile a fixture program into a temp folder, validate reports. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import assert from 'node:assert/strict';
import { profileProgram } from '../../src/core/index';
import type { ProfileOptions, ProfileResult } from '../../src/core/api';
import type { FunctionRow, Report } from '../../src/protocol/report';

export const programs = join(__dirname, '..', 'fixtures', 'core', 'programs');
export const runs = join(__dirname, '..', 'fixtures', 'core', 'runs');

/** Profiles test/fixtures/core/programs/<name> (with a hard timeout), capturing its output. */
export async function profileFixture(name: string, opts: Partial<ProfileOptions> = {}): Promise<ProfileResult & { stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const res = await profileProgram({
    file: resolve(programs, name),
    args: [],
    cwd: programs,
    outDir: mkdtempSync(join(tmpdir(), 'parprof-core-')),
    timeoutSec: 90,
    onStdout: (c) => (stdout += c.toString()),
    onStderr: (c) => (stderr += c.toString()),
    ...opts,
  });
  return { ...res, stdout, stderr };
}

/** The function row of a thread by name (fails listing the rows when missing). */
export function fnRow(r: Report, threadId: number, name: string): FunctionRow {
  const f = r.functions.find((x) => x.threadId === threadId && x.name === name);
  assert.ok(f, `no row "${name}" in thread ${threadId}; rows: ${r.functions.filter((x) => x.threadId === threadId).map((x) => x.name).join(', ')}`);
  return f;
}

let validator: ((r: unknown) => boolean) & { errors?: unknown } | null = null;
/** Asserts that a report validates against src/core/report.schema.json and its columns line up. */
export function assertValidReport(r: Report): void {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'src', 'core', 'report.schema.json'), 'utf8'));
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  const ok = validator(JSON.parse(JSON.stringify(r)));
  assert.ok(ok, `report does not match the schema: ${JSON.stringify(validator.errors, null, 1)?.slice(0, 3000)}`);
  const tl = r.timeline;
  const n = tl.start.length;
  for (const col of [tl.thread, tl.end, tl.state, tl.stack, tl.label]) assert.equal(col.length, n, 'timeline columns have one length');
  for (let i = 0; i < n; i++) {
    assert.ok(tl.end[i]! >= tl.start[i]!, 'slices do not run backwards');
    assert.ok(tl.thread[i]! >= 0 && tl.thread[i]! < r.threads.length, 'slice lanes index threads');
    assert.ok(tl.stack[i]! >= -1 && tl.stack[i]! < r.stacks.stacks.length, 'slice stacks index the stack table');
  }
  for (const s of r.stacks.stacks) for (const f of s) assert.ok(f >= 0 && f < r.stacks.frames.length);
  const ids = new Set(r.threads.map((t) => t.id));
  for (const f of r.functions) assert.ok(f.threadId === -1 || ids.has(f.threadId));
  for (const f of r.functions) assert.ok(f.cumtimeMs + 1e-9 >= f.tottimeMs, `cumtime >= tottime for ${f.name}`);
}
