/** Builds small Reports by hand (threads, slices, messages) to test the efficiency math. */
import { REPORT_SCHEMA, ThreadState, type Report, type ThreadInfo } from '../../src/protocol/report';
import { computeMetrics } from '../../src/core/metrics';

/** One slice: [startMs, endMs, state, frame names (root first) or undefined]. */
export type Slice = [number, number, ThreadState, string[]?];

/** A hand-made thread: its kind, life and slices. */
export interface SyntheticThread {
  id: number;
  kind?: ThreadInfo['kind'];
  slices: Slice[];
}

/** A report whose timeline is exactly the given slices. */
export function syntheticReport(threads: SyntheticThread[], extra: Partial<Pick<Report, 'messages' | 'locks' | 'functions'>> = {}): Report {
  const frames: [string, string, number][] = [];
  const stacks: number[][] = [];
  const frameId = new Map<string, number>();
  const stackId = new Map<string, number>();
  const internStack = (names: string[]): number => {
    const key = names.join(';');
    let id = stackId.get(key);
    if (id !== undefined) return id;
    const ids = names.map((n) => {
      const [name, file = '/app/main.js'] = n.split('@');
      let f = frameId.get(n);
      if (f === undefined) {
        f = frames.length;
        frames.push([name!, file, 1]);
        frameId.set(n, f);
      }
      return f;
    });
    id = stacks.length;
    stacks.push(ids);
    stackId.set(key, id);
    return id;
  };
  const tl: Report['timeline'] = {
    thread: [],
    start: [],
    end: [],
    state: [],
    stack: [],
    label: [],
    labels: [],
    wakeups: [],
  };
  let wall = 0;
  threads.forEach((t, lane) => {
    for (const [s, e, st, names] of t.slices) {
      tl.thread.push(lane);
      tl.start.push(s);
      tl.end.push(e);
      tl.state.push(st);
      tl.stack.push(st === ThreadState.Running ? internStack(names ?? ['compute']) : -1);
      tl.label.push(-1);
      wall = Math.max(wall, e);
    }
  });
  const infos: ThreadInfo[] = threads.map((t) => {
    const sum = (st: ThreadState) => t.slices.filter((x) => x[2] === st).reduce((a, x) => a + x[1] - x[0], 0);
    const kind = t.kind ?? (t.id === 0 ? 'main' : 'worker');
    return {
      id: t.id,
      key: `1:${t.id}`,
      pid: 1,
      name: kind === 'main' ? 'main' : `worker ${t.id}`,
      kind,
      entry: '/app/main.js',
      parentId: t.id === 0 ? null : 0,
      startMs: Math.min(...t.slices.map((x) => x[0])),
      endMs: Math.max(...t.slices.map((x) => x[1])),
      exitCode: 0,
      cpuMs: sum(ThreadState.Running) + sum(ThreadState.GC),
      blockedMs: sum(ThreadState.Blocked),
      idleMs: sum(ThreadState.Idle),
      gcMs: sum(ThreadState.GC),
      complete: true,
    };
  });
  return {
    schema: REPORT_SCHEMA,
    tool: {
      name: 'parprof',
      version: '0',
      backend: 'inspector',
      backendReason: '',
      nodeVersion: null,
      sampleIntervalUs: 1000,
      callCounts: false,
      raceDetection: false,
      raceSampleRate: null,
    },
    program: {
      file: '/app/main.js',
      args: [],
      cwd: '/app',
      exitCode: 0,
      signal: null,
      error: null,
      outcome: 'exited',
    },
    wallMs: wall,
    originMs: 0,
    partial: false,
    warnings: [],
    threads: infos,
    functions: extra.functions ?? [],
    races: [],
    locks: extra.locks ?? [],
    deadlocks: [],
    messages: extra.messages ?? [],
    metrics: computeMetrics(tl, wall),
    diagnostics: [],
    timeline: tl,
    stacks: { frames, stacks },
  };
}
