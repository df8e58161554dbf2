/**
 * Shared by the exports: walks one lane's timeline slices in time order as (start, end,
 * frames root-first) with pseudo frames for GC and blocked time, skipping idle.
 */
import { ThreadState, type Report } from '../../protocol/report';

/** A slice of one lane with its frames (root first) as names, files and lines. */
export interface LaneSlice {
  startMs: number;
  endMs: number;
  state: number;
  /** Stack id into report.stacks, or -1. */
  stack: number;
  label: string | null;
}

/** Slices of every lane, each list in time order. */
export function slicesByLane(report: Report): LaneSlice[][] {
  const tl = report.timeline;
  const lanes: LaneSlice[][] = report.threads.map(() => []);
  for (let i = 0; i < tl.start.length; i++) {
    const lane = lanes[tl.thread[i]!];
    if (!lane) continue;
    const l = tl.label[i]!;
    lane.push({ startMs: tl.start[i]!, endMs: tl.end[i]!, state: tl.state[i]!, stack: tl.stack[i]!, label: l >= 0 ? (tl.labels[l] ?? null) : null });
  }
  for (const lane of lanes) lane.sort((a, b) => a.startMs - b.startMs);
  return lanes;
}

/** Display name of a pseudo frame for a non-running state. */
export function stateFrameName(state: number, label: string | null): string {
  switch (state) {
    case ThreadState.GC:
      return '(garbage collector)';
    case ThreadState.Blocked:
      return label ? `(blocked: Atomics.wait on ${label})` : '(blocked: Atomics.wait)';
    case ThreadState.Idle:
      return '(idle)';
    default:
      return '(program)';
  }
}

/** State names used as trace categories. */
export const STATE_NAMES = ['running', 'idle', 'blocked', 'gc'];
