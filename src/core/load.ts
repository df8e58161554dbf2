/**
 * Loads a run directory (src/protocol/events.ts) into a LoadedRun: one LoadedThread per
 * `t-<pid>-<tid>.jsonl`, read in chunks so a huge event file never sits in memory as one
 * string. A truncated last line (a killed thread) is dropped and the thread marked incomplete.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import {
  RUN_MANIFEST,
  RUN_OUTCOME,
  type AgentRecord,
  type RunManifest,
  type RunOutcome,
  type ThreadRecord,
} from '../protocol/events';
import { MessageLog } from './messages';
import type { LoadedRun, LoadedThread } from './runData';
import { SegmentStore } from './segments';

const THREAD_FILE = /^t-(\d+)-(\d+)\.jsonl$/;
const CHUNK = 1 << 20;

/** Calls `onLine` for every complete line of a file; returns false when the last line had no newline. */
export function forEachLine(path: string, onLine: (line: string) => void): boolean {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n <= 0) break;
      const text = rest + decoder.write(buf.subarray(0, n));
      let from = 0;
      for (let nl = text.indexOf('\n', from); nl >= 0; nl = text.indexOf('\n', from)) {
        if (nl > from) onLine(text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
    }
  } finally {
    closeSync(fd);
  }
  rest += decoder.end();
  if (rest.trim() === '') return true;
  // A final line without newline may still be a whole record (flushed without trailing \n).
  try {
    JSON.parse(rest);
    onLine(rest);
    return true;
  } catch {
    return false;
  }
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** A thread with no records yet (what the loader fills; tests build hand-made runs from it too). */
export function emptyThread(pid: number, tid: number, info: ThreadRecord): LoadedThread {
  return {
    id: tid,
    key: `${pid}:${tid}`,
    pid,
    tid,
    info,
    modules: new Map(),
    counts: new Map(),
    profiles: [],
    gc: [],
    spawns: [],
    forks: [],
    joins: [],
    msgs: new MessageLog(pid),
    atoms: [],
    bufs: new Map(),
    stacks: new Map(),
    tidx: null,
    segs: new SegmentStore(),
    deadlocks: [],
    exit: null,
    warnings: [],
    complete: false,
  };
}

/** The latest time stamp (µs) a thread's records mention; its end when it never wrote an exit record. */
export function lastSeenUs(t: LoadedThread): number {
  let last = t.info.startUs;
  const max = (v: number | undefined) => {
    if (v !== undefined && v > last) last = v;
  };
  for (const p of t.profiles) max(p.endUs);
  for (const g of t.gc) for (let i = 0; i < g.start.length; i++) max(g.start[i]! + (g.dur[i] ?? 0));
  if (t.msgs.lastUs > -Infinity) max(t.msgs.lastUs);
  for (const a of t.atoms) for (let i = 0; i < a.us.length; i++) max(a.us[i]! + (a.dur[i] ?? 0));
  for (const s of t.spawns) max(s.us);
  for (const j of t.joins) max(j.us);
  for (const d of t.deadlocks) max(d.us);
  if (t.exit) max(t.exit.us);
  return last;
}

/** Reads one thread event file; null when it holds no thread record. */
export function loadThreadFile(path: string, pid: number, tid: number): LoadedThread | null {
  let t: LoadedThread | null = null;
  let bad = 0;
  const pending: AgentRecord[] = [];
  const complete = forEachLine(path, (line) => {
    let r: AgentRecord;
    try {
      r = JSON.parse(line) as AgentRecord;
    } catch {
      bad++;
      return;
    }
    if (r.k === 'thread') {
      t = emptyThread(pid, tid, r);
      for (const p of pending) addRecord(t, p);
      pending.length = 0;
    } else if (t) addRecord(t, r);
    else pending.push(r);
  });
  const thread = t as LoadedThread | null;
  if (!thread) return null;
  if (!complete) thread.warnings.push(`The event file of thread ${tid} (pid ${pid}) ends in a cut-off record.`);
  if (bad) thread.warnings.push(`${bad} unreadable record(s) in the event file of thread ${tid} (pid ${pid}) were skipped.`);
  thread.complete = complete && thread.exit !== null;
  return thread;
}

function addRecord(t: LoadedThread, r: AgentRecord): void {
  switch (r.k) {
    case 'module':
      t.modules.set(r.fid, r);
      break;
    case 'counts':
      t.counts.set(r.fid, r);
      break;
    case 'profile':
      t.profiles.push(r);
      break;
    case 'gc':
      t.gc.push(r);
      break;
    case 'spawn':
      t.spawns.push(r);
      break;
    case 'fork':
      t.forks.push(r);
      break;
    case 'join':
      t.joins.push(r);
      break;
    case 'msg':
      t.msgs.push(r);
      break;
    case 'atom':
      t.atoms.push(r);
      break;
    case 'buf':
      t.bufs.set(r.idx, r);
      break;
    case 'stack':
      t.stacks.set(r.site, r.frames);
      break;
    case 'tidx':
      if (r.tid === t.tid) t.tidx = r.idx;
      break;
    case 'seg':
      t.segs.push(r);
      break;
    case 'segs':
      t.segs.pushBatch(r);
      break;
    case 'deadlock':
      t.deadlocks.push(r);
      break;
    case 'exit':
      t.exit = r;
      break;
    case 'warn':
      t.warnings.push(r.msg);
      break;
    default:
      break;
  }
}

/**
 * Gives threads their report ids: Node's threadId in the root process, k*10000+threadId in
 * the k-th forked process (ordered by start time).
 */
function assignIds(threads: LoadedThread[]): void {
  const pids = new Set(threads.map((t) => t.pid));
  const procStart = new Map<number, number>();
  const procParent = new Map<number, number | null>();
  for (const t of threads) {
    const s = procStart.get(t.pid);
    if (s === undefined || t.info.startUs < s) procStart.set(t.pid, t.info.startUs);
    if (t.info.kind === 'main') procParent.set(t.pid, t.info.ppid);
  }
  const order = [...procStart.keys()].sort((a, b) => procStart.get(a)! - procStart.get(b)!);
  const root = order.find((p) => {
    const pp = procParent.get(p);
    return pp === null || pp === undefined || !pids.has(pp);
  });
  const rank = new Map<number, number>();
  let k = 1;
  for (const p of order) rank.set(p, p === root ? 0 : k++);
  for (const t of threads) t.id = rank.get(t.pid)! * 10000 + t.tid;
}

/** Loads a whole run directory. Missing manifest/outcome are null; unreadable thread files become warnings. */
export function loadRun(dir: string): LoadedRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`run directory not found: ${dir}`);
  const threads: LoadedThread[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = THREAD_FILE.exec(name);
    if (!m) continue;
    const t = loadThreadFile(join(dir, name), Number(m[1]), Number(m[2]));
    if (t) threads.push(t);
  }
  assignIds(threads);
  threads.sort((a, b) => a.id - b.id);
  const manifest = readJson<RunManifest>(join(dir, RUN_MANIFEST));
  const outcome = readJson<RunOutcome>(join(dir, RUN_OUTCOME));
  let originUs = Infinity;
  for (const t of threads) originUs = Math.min(originUs, t.info.startUs);
  if (!Number.isFinite(originUs)) originUs = manifest?.startedUs ?? 0;
  return { dir, manifest, outcome, threads, originUs };
}

export { FunctionMapper, mapCallFrame, resolveSite, type MappedFunction } from './sourcePositions';
