/**
 * Parallel-computing measures of one run, from the timeline's busy (running + GC) slices:
 * total CPU, average parallelism, efficiency, busy threads over time, the observed serial
 * fraction (share of wall time with at most one busy thread) and the serial phases. The
 * profiler's own start-up and flushing are left out of the program's busy time.
 */
import { ThreadState, type RunMetrics, type TimelineData } from '../protocol/report';

const BUCKETS = 200;

function niceBucket(wallMs: number): number {
  const raw = wallMs / BUCKETS;
  if (raw <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function isBusy(state: number): boolean {
  return state === ThreadState.Running || state === ThreadState.GC;
}

/**
 * Computes the run metrics over [0, wallMs]. Slices whose stack `isOverhead` (the profiler's
 * own code) are not the program's work: they count in `profilerCpuMs`, not in busy time.
 */
export function computeMetrics(tl: TimelineData, wallMs: number, isOverhead: (stack: number) => boolean = () => false, cores?: number): RunMetrics {
  const n = tl.start.length;
  let busyCount = 0;
  let profilerCpuMs = 0;
  const overhead = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!isBusy(tl.state[i]!)) continue;
    if (tl.stack[i]! >= 0 && isOverhead(tl.stack[i]!)) {
      overhead[i] = 1;
      profilerCpuMs += tl.end[i]! - tl.start[i]!;
    } else busyCount++;
  }
  const starts = new Float64Array(busyCount);
  const ends = new Float64Array(busyCount);
  const usedLanes = new Set<number>();
  const bucketMs = niceBucket(wallMs);
  const busy = new Array<number>(Math.max(1, Math.ceil(wallMs / bucketMs))).fill(0);
  let cpuMs = 0;
  for (let i = 0, b = 0; i < n; i++) {
    if (!isBusy(tl.state[i]!) || overhead[i]) continue;
    const s = tl.start[i]!;
    const e = tl.end[i]!;
    starts[b] = s;
    ends[b] = e;
    b++;
    cpuMs += e - s;
    usedLanes.add(tl.thread[i]!);
    for (let k = Math.max(0, Math.floor(s / bucketMs)); k < busy.length && k * bucketMs < e; k++) {
      const ov = Math.min(e, (k + 1) * bucketMs) - Math.max(s, k * bucketMs);
      if (ov > 0) busy[k]! += ov / bucketMs;
    }
  }
  starts.sort();
  ends.sort();
  // Sweep the busy-thread count over time.
  let level = 0;
  let t = 0;
  let atMostOne = 0;
  const phases: { startMs: number; endMs: number }[] = [];
  let phaseStart = -1;
  const minGap = Math.max(1, wallMs / 500);
  const advance = (to: number) => {
    const from = Math.max(0, Math.min(t, wallMs));
    const until = Math.max(0, Math.min(to, wallMs));
    if (until > from && level <= 1) atMostOne += until - from;
    t = to;
  };
  const setLevel = (at: number, next: number) => {
    if (level !== 1 && next === 1) phaseStart = at;
    if (level === 1 && next !== 1 && phaseStart >= 0) {
      const last = phases[phases.length - 1];
      if (last && phaseStart - last.endMs <= minGap) last.endMs = at;
      else phases.push({ startMs: phaseStart, endMs: at });
      phaseStart = -1;
    }
    level = next;
  };
  for (let i = 0, j = 0; i < starts.length || j < ends.length; ) {
    if (j >= ends.length || (i < starts.length && starts[i]! <= ends[j]!)) {
      advance(starts[i]!);
      setLevel(starts[i]!, level + 1);
      i++;
    } else {
      advance(ends[j]!);
      setLevel(ends[j]!, level - 1);
      j++;
    }
  }
  advance(wallMs);
  const minPhase = Math.max(2, wallMs / 100);
  const serialPhases = phases.filter((p) => p.endMs - p.startMs >= minPhase);
  const threadsUsed = usedLanes.size;
  const parallelism = wallMs > 0 ? cpuMs / wallMs : 0;
  const osf = wallMs > 0 && threadsUsed > 0 ? Math.min(1, atMostOne / wallMs) : null;
  // Processors used: the threads, or the cores when there were more busy threads than cores
  // (4 workers on 2 cores can at best keep 2 busy).
  const processors = cores && cores > 0 ? Math.min(threadsUsed, cores) : threadsUsed;
  return {
    cpuMs,
    parallelism,
    efficiency: processors > 0 ? parallelism / processors : 0,
    threadsUsed,
    ...(cores && cores > 0 ? { cores } : {}),
    observedSerialFraction: osf,
    amdahlCeiling: osf !== null && osf > 0 ? 1 / osf : null,
    busyOverTime: { bucketMs, busy },
    serialPhases,
    profilerCpuMs,
  };
}
