/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json): shared
 * frames from the report's stack table, one evented profile per thread rebuilt from the
 * timeline, so speedscope's time-order view matches the thread timeline.
 */
import { ThreadState, type Report } from '../../protocol/report';
import { slicesByLane, stateFrameName } from './laneStacks';

/** A speedscope file (only the parts we emit). */
export interface SpeedscopeFile {
  $schema: string;
  shared: { frames: { name: string; file?: string; line?: number }[] };
  profiles: {
    type: 'evented';
    name: string;
    unit: 'milliseconds';
    startValue: number;
    endValue: number;
    events: { type: 'O' | 'C'; frame: number; at: number }[];
  }[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

/** Builds the speedscope file of a report. */
export function buildSpeedscope(report: Report): SpeedscopeFile {
  const frames: SpeedscopeFile['shared']['frames'] = report.stacks.frames.map(([name, file, line]) =>
    file ? { name, file, line } : { name },
  );
  const pseudo = new Map<string, number>();
  const pseudoFrame = (name: string) => {
    let i = pseudo.get(name);
    if (i === undefined) {
      i = frames.length;
      frames.push({ name });
      pseudo.set(name, i);
    }
    return i;
  };
  const profiles = slicesByLane(report).map((slices, lane) => {
    const t = report.threads[lane]!;
    const events: SpeedscopeFile['profiles'][number]['events'] = [];
    let open: number[] = [];
    let lastEnd = t.startMs;
    const closeTo = (depth: number, at: number) => {
      while (open.length > depth) events.push({ type: 'C', frame: open.pop()!, at });
    };
    for (const s of slices) {
      if (s.state === ThreadState.Idle) continue;
      if (s.startMs - lastEnd > 0.001) closeTo(0, lastEnd);
      const stack =
        s.state === ThreadState.Running && s.stack >= 0 ? (report.stacks.stacks[s.stack] ?? []) : [pseudoFrame(stateFrameName(s.state, s.label))];
      let common = 0;
      while (common < open.length && common < stack.length && open[common] === stack[common]) common++;
      closeTo(common, s.startMs);
      for (let d = common; d < stack.length; d++) events.push({ type: 'O', frame: stack[d]!, at: s.startMs });
      open = open.slice(0, common).concat(stack.slice(common));
      lastEnd = s.endMs;
    }
    closeTo(0, lastEnd);
    return {
      type: 'evented' as const,
      name: `${t.name} [${t.id}]`,
      unit: 'milliseconds' as const,
      startValue: t.startMs,
      endValue: Math.max(t.endMs, lastEnd),
      events,
    };
  });
  return {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles,
    name: `parprof ${report.program.file}`,
    activeProfileIndex: 0,
    exporter: `parprof ${report.tool.version}`,
  };
}
