/**
 * Runs a fixture under the built agent (out/agent.js) with race detection and lock logging on,
 * and loads the raw per-thread records, so tests assert on exactly what the agent wrote.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentOptions, AgentRecord, ModuleRecord, SegmentRecord } from '../../src/protocol/events';
import { SITE_FID_SCALE, unbatchSegments } from '../../src/protocol/events';

export const root = join(__dirname, '..', '..');
export const fixtures = join(root, 'test', 'fixtures', 'agent-shared');

/** One thread's records. */
export interface ThreadRecords {
  tid: number;
  records: AgentRecord[];
  of<K extends AgentRecord['k']>(k: K): Extract<AgentRecord, { k: K }>[];
}

/** The outcome of one profiled run. */
export interface AgentRun {
  status: number | null;
  stdout: string;
  stderr: string;
  threads: ThreadRecords[];
  thread(tid: number): ThreadRecords;
}

/** Run `fixture` plainly (no agent): the program's own behaviour. */
export function runPlain(fixture: string, args: string[] = [], timeoutMs = 20000): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [join(fixtures, fixture), ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout };
}

/** Run `fixture` with the agent preloaded and options overridden by `opts`. */
export function runAgent(fixture: string, opts: Partial<AgentOptions> = {}, args: string[] = [], timeoutMs = 30000): AgentRun {
  const runDir = mkdtempSync(join(tmpdir(), 'pp-agent-shared-'));
  const options: AgentOptions = {
    runDir,
    sampleIntervalUs: 1000,
    counts: false,
    races: true,
    raceSample: null,
    instrumentDeps: false,
    locks: true,
    deadlockTimeoutMs: 0,
    flushIntervalMs: 1000,
    backend: 'inspector',
    v8ProfilerPath: null,
    shadowCapMiB: 256,
    ...opts,
  };
  try {
    const r = spawnSync(process.execPath, ['--require', join(root, 'out', 'agent.js'), join(fixtures, fixture), ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
      env: { ...process.env, PARPROF_AGENT_OPTIONS: JSON.stringify(options) },
    });
    const threads: ThreadRecords[] = [];
    for (const f of readdirSync(runDir)) {
      const m = /^t-\d+-(\d+)\.jsonl$/.exec(f);
      if (!m) continue;
      const records = readFileSync(join(runDir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as AgentRecord);
      threads.push({
        tid: Number(m[1]),
        records,
        // Segments come in batches: of('seg') gives them one by one.
        of: (k) => (k === 'seg' ? segmentsOf(records) : records.filter((x) => x.k === k)) as any,
      });
    }
    threads.sort((a, b) => a.tid - b.tid);
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      threads,
      thread(tid) {
        const t = threads.find((x) => x.tid === tid);
        if (!t) throw new Error(`no records for thread ${tid}; have ${threads.map((x) => x.tid).join(',')}\n${r.stderr}`);
        return t;
      },
    };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/** 1-based line of the `@tag` marker in a fixture. */
export function lineOf(fixture: string, tag: string): number {
  const lines = readFileSync(join(fixtures, fixture), 'utf8').split('\n');
  const i = lines.findIndex((l) => new RegExp(`@${tag}\\b`).test(l));
  if (i < 0) throw new Error(`no @${tag} in ${fixture}`);
  return i + 1;
}

/** Site ids (of this thread's modules) whose original line is `line` in the module whose file ends with `fixture`. */
export function sitesAt(t: ThreadRecords, fixture: string, line: number): number[] {
  const out: number[] = [];
  for (const m of t.of('module') as ModuleRecord[]) {
    if (!m.file.endsWith(fixture)) continue;
    for (let j = 0; j * 3 < m.sites.length; j++) if (m.sites[j * 3] === line) out.push(m.fid * SITE_FID_SCALE + j);
  }
  return out;
}

/** Every access run of a thread, flattened, with its segment. */
export function accesses(t: ThreadRecords) {
  const out: { seg: number; buf: number; off: number; len: number; kind: number; site: number; vc: number[]; self: number }[] = [];
  t.of('seg').forEach((s, n) => {
    for (let i = 0; i < s.buf.length; i++) {
      out.push({ seg: n, buf: s.buf[i]!, off: s.off[i]!, len: s.len[i]!, kind: s.kind[i]!, site: s.site[i]!, vc: s.vc, self: s.self });
    }
  });
  return out;
}

/** Entry `idx` of a sparse vector clock (0 when absent). */
export function clockAt(vc: number[], idx: number): number {
  for (let k = 0; k + 1 < vc.length; k += 2) if (vc[k] === idx) return vc[k + 1]!;
  return 0;
}

/** The access runs the main thread recorded at a fixture's `@tag` line, sorted (kind, offset). */
export function accessesAt(run: AgentRun, fixture: string, tag: string): { off: number; len: number; kind: number }[] {
  const main = run.thread(0);
  const sites = sitesAt(main, fixture, lineOf(fixture, tag));
  if (sites.length === 0) throw new Error(`no site at @${tag}`);
  return accesses(main)
    .filter((a) => sites.includes(a.site))
    .map((a) => ({ off: a.off, len: a.len, kind: a.kind }))
    .sort((x, y) => x.kind - y.kind || x.off - y.off);
}

/** The segments among a thread's records, one record each (batches unpacked), in order. */
export function segmentsOf(records: AgentRecord[]): SegmentRecord[] {
  return records.flatMap((r) => (r.k === 'seg' ? [r] : r.k === 'segs' ? unbatchSegments(r) : []));
}
