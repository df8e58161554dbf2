/**
 * Validators for the exports as the tools that open them read them: Chrome trace events
 * (Perfetto, chrome://tracing), V8 .cpuprofile (VS Code's viewer, DevTools), Python pstats
 * print_stats text and speedscope's file format. Each returns the problems it found (empty
 * when valid), so a test can assert `[]` and a person can list everything wrong at once.
 * Written from the formats' own rules, not from our writers.
 */

type Json = Record<string, unknown>;
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Chrome trace event format (JSON object form), including flow binding and thread names. */
export function chromeTraceProblems(trace: unknown): string[] {
  const out: string[] = [];
  const t = trace as { traceEvents?: unknown; displayTimeUnit?: unknown };
  if (!t || !Array.isArray(t.traceEvents)) return ['no traceEvents array'];
  if (t.displayTimeUnit !== undefined && t.displayTimeUnit !== 'ms' && t.displayTimeUnit !== 'ns') out.push(`displayTimeUnit ${String(t.displayTimeUnit)}`);
  const ev = t.traceEvents as Json[];
  const named = new Set<string>();
  const used = new Set<string>();
  const slices = new Map<string, [number, number][]>();
  const flows = new Map<string, { s?: Json; f?: Json; n: number }>();
  ev.forEach((e, i) => {
    const where = `event ${i} (${String(e.ph)} ${String(e.name)})`;
    if (typeof e.ph !== 'string') return void out.push(`${where}: no ph`);
    if (typeof e.name !== 'string') out.push(`${where}: no name`);
    if (!isInt(e.pid) || !isInt(e.tid)) out.push(`${where}: pid/tid not integers`);
    if (!isNum(e.ts) || (e.ts as number) < 0) out.push(`${where}: ts ${String(e.ts)} is not a non-negative number (µs)`);
    const lane = `${String(e.pid)}:${String(e.tid)}`;
    if (e.ph === 'M') {
      if (e.name === 'thread_name') {
        if (typeof (e.args as Json | undefined)?.name !== 'string') out.push(`${where}: thread_name without args.name`);
        named.add(lane);
      }
      return;
    }
    used.add(lane);
    switch (e.ph) {
      case 'X':
        if (!isNum(e.dur) || (e.dur as number) < 0) out.push(`${where}: X without a non-negative dur`);
        else slices.set(lane, [...(slices.get(lane) ?? []), [e.ts as number, (e.ts as number) + (e.dur as number)]]);
        break;
      case 's':
      case 'f': {
        if (e.id === undefined) out.push(`${where}: flow event without id`);
        const key = `${String(e.cat)}\0${String(e.name)}\0${String(e.id)}`;
        const fl = flows.get(key) ?? { n: 0 };
        if (fl[e.ph]) out.push(`${where}: flow id ${String(e.id)} has two '${e.ph}' events`);
        fl[e.ph] = e;
        flows.set(key, fl);
        if (e.ph === 'f' && e.bp !== undefined && e.bp !== 'e') out.push(`${where}: bp must be "e" when given`);
        break;
      }
      case 'i':
      case 'I':
        if (e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) out.push(`${where}: instant scope ${String(e.s)}`);
        break;
      case 'B':
      case 'E':
      case 'C':
      case 'b':
      case 'e':
      case 'n':
        break;
      default:
        out.push(`${where}: unknown phase`);
    }
  });
  for (const lane of used) if (!named.has(lane)) out.push(`thread ${lane} has events but no thread_name metadata`);
  // A flow event binds to the slice that encloses it on its own thread; without one the viewer drops the arrow.
  const encloses = (e: Json) => (slices.get(`${String(e.pid)}:${String(e.tid)}`) ?? []).some(([a, b]) => a <= (e.ts as number) && (e.ts as number) <= b);
  for (const fl of flows.values()) {
    if (!fl.s || !fl.f) {
      out.push(`flow id ${String((fl.s ?? fl.f)!.id)} has no '${fl.s ? 'f' : 's'}' end`);
      continue;
    }
    if ((fl.f.ts as number) < (fl.s.ts as number)) out.push(`flow id ${String(fl.s.id)} ends (${String(fl.f.ts)}) before it starts (${String(fl.s.ts)})`);
    if (!encloses(fl.s)) out.push(`flow id ${String(fl.s.id)} starts outside any slice of ${String(fl.s.pid)}:${String(fl.s.tid)} at ${String(fl.s.ts)}`);
    if (!encloses(fl.f)) out.push(`flow id ${String(fl.f.id)} ends outside any slice of ${String(fl.f.pid)}:${String(fl.f.tid)} at ${String(fl.f.ts)}`);
  }
  // X slices of one thread must nest (a flame chart), never partially overlap.
  for (const [lane, xs] of slices) {
    xs.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const open: [number, number][] = [];
    for (const x of xs) {
      while (open.length && open[open.length - 1]![1] <= x[0]) open.pop();
      const top = open[open.length - 1];
      if (top && x[1] > top[1]) {
        out.push(`thread ${lane}: slice [${x[0]}, ${x[1]}] overlaps [${top[0]}, ${top[1]}] without nesting`);
        break;
      }
      open.push(x);
    }
  }
  return out;
}

/** A V8 CPU profile as DevTools and VS Code's profile viewer read it. */
export function cpuProfileProblems(p: unknown): string[] {
  const out: string[] = [];
  const prof = p as { nodes?: Json[]; startTime?: unknown; endTime?: unknown; samples?: unknown; timeDeltas?: unknown };
  if (!prof || !Array.isArray(prof.nodes) || prof.nodes.length === 0) return ['no nodes'];
  if (!isNum(prof.startTime) || !isNum(prof.endTime)) out.push('startTime/endTime are not numbers');
  else if (prof.endTime < prof.startTime) out.push(`endTime ${prof.endTime} before startTime ${prof.startTime}`);
  const byId = new Map<number, Json>();
  for (const n of prof.nodes) {
    if (!isInt(n.id) || n.id <= 0) out.push(`node id ${String(n.id)} is not a positive integer`);
    else if (byId.has(n.id)) out.push(`node id ${n.id} twice`);
    else byId.set(n.id, n);
    const cf = n.callFrame as Json | undefined;
    if (!cf) {
      out.push(`node ${String(n.id)}: no callFrame`);
      continue;
    }
    if (typeof cf.functionName !== 'string' || typeof cf.url !== 'string') out.push(`node ${String(n.id)}: callFrame needs functionName and url strings`);
    if (typeof cf.scriptId !== 'string' && !isInt(cf.scriptId)) out.push(`node ${String(n.id)}: callFrame.scriptId`);
    if (!isInt(cf.lineNumber) || !isInt(cf.columnNumber)) out.push(`node ${String(n.id)}: callFrame line/column not integers`);
  }
  const parentOf = new Map<number, number>();
  for (const n of prof.nodes) {
    if (n.children !== undefined && !Array.isArray(n.children)) out.push(`node ${String(n.id)}: children is not an array`);
    for (const c of (n.children as unknown[] | undefined) ?? []) {
      if (!isInt(c) || !byId.has(c)) out.push(`node ${String(n.id)}: child ${String(c)} does not exist`);
      else if (parentOf.has(c)) out.push(`node ${c} has two parents (${parentOf.get(c)} and ${String(n.id)})`);
      else parentOf.set(c, n.id as number);
    }
    if (n.parent !== undefined && parentOf.get(n.id as number) !== undefined && n.parent !== parentOf.get(n.id as number)) out.push(`node ${String(n.id)}: parent disagrees with children`);
  }
  const roots = [...byId.keys()].filter((id) => !parentOf.has(id));
  if (roots.length !== 1) out.push(`${roots.length} roots (nodes no one lists as a child): ${roots.slice(0, 5).join(', ')}`);
  else if ((byId.get(roots[0]!)!.callFrame as Json).functionName !== '(root)') out.push('the root is not "(root)"');
  for (const id of byId.keys()) {
    let cur: number | undefined = id;
    for (let steps = 0; cur !== undefined && steps <= byId.size; steps++) cur = parentOf.get(cur);
    if (cur !== undefined) out.push(`node ${id} is on a parent cycle`);
  }
  const samples = prof.samples as unknown[] | undefined;
  const deltas = prof.timeDeltas as unknown[] | undefined;
  if (!Array.isArray(samples) || !Array.isArray(deltas)) return [...out, 'samples/timeDeltas missing'];
  if (samples.length !== deltas.length) out.push(`${samples.length} samples but ${deltas.length} timeDeltas`);
  const hits = new Map<number, number>();
  for (const s of samples) {
    if (!isInt(s) || !byId.has(s)) out.push(`sample ${String(s)} names no node`);
    else hits.set(s, (hits.get(s) ?? 0) + 1);
  }
  let t = prof.startTime as number;
  for (const d of deltas) {
    if (!isNum(d) || d < 0) out.push(`time delta ${String(d)} is not a non-negative number`);
    t += d as number;
  }
  if (isNum(prof.endTime) && t > prof.endTime) out.push(`samples run to ${t}, past endTime ${prof.endTime}`);
  for (const [id, n] of byId) if (n.hitCount !== undefined && n.hitCount !== (hits.get(id) ?? 0)) out.push(`node ${id}: hitCount ${String(n.hitCount)} but ${hits.get(id) ?? 0} samples`);
  return out;
}

/** speedscope's file-format schema, and what its evented importer demands. */
export function speedscopeProblems(file: unknown): string[] {
  const out: string[] = [];
  const f = file as { $schema?: unknown; shared?: { frames?: Json[] }; profiles?: Json[]; activeProfileIndex?: unknown };
  if (f?.$schema !== 'https://www.speedscope.app/file-format-schema.json') out.push('$schema is not speedscope\'s');
  const frames = f?.shared?.frames;
  if (!Array.isArray(frames)) return [...out, 'no shared.frames'];
  frames.forEach((fr, i) => {
    if (typeof fr.name !== 'string') out.push(`frame ${i}: no name`);
    if (fr.file !== undefined && typeof fr.file !== 'string') out.push(`frame ${i}: file`);
    for (const k of ['line', 'col']) if (fr[k] !== undefined && !isNum(fr[k])) out.push(`frame ${i}: ${k}`);
  });
  if (!Array.isArray(f.profiles)) return [...out, 'no profiles'];
  if (f.activeProfileIndex !== undefined && !(isInt(f.activeProfileIndex) && f.activeProfileIndex < f.profiles.length)) out.push('activeProfileIndex');
  f.profiles.forEach((p, i) => {
    const where = `profile ${i}`;
    if (p.type !== 'evented' && p.type !== 'sampled') return void out.push(`${where}: type ${String(p.type)}`);
    if (typeof p.name !== 'string') out.push(`${where}: name`);
    if (!['none', 'nanoseconds', 'microseconds', 'milliseconds', 'seconds', 'bytes'].includes(p.unit as string)) out.push(`${where}: unit ${String(p.unit)}`);
    if (!isNum(p.startValue) || !isNum(p.endValue) || p.endValue < p.startValue) out.push(`${where}: startValue/endValue`);
    if (p.type !== 'evented') return;
    const open: number[] = [];
    let last = -Infinity;
    for (const e of p.events as Json[]) {
      if (e.type !== 'O' && e.type !== 'C') out.push(`${where}: event type ${String(e.type)}`);
      if (!isInt(e.frame) || e.frame < 0 || e.frame >= frames.length) out.push(`${where}: frame ${String(e.frame)}`);
      if (!isNum(e.at) || e.at < last) out.push(`${where}: events out of time order at ${String(e.at)}`);
      if (isNum(e.at) && (e.at < (p.startValue as number) || e.at > (p.endValue as number))) out.push(`${where}: event at ${e.at} outside [startValue, endValue]`);
      last = e.at as number;
      if (e.type === 'O') open.push(e.frame as number);
      else if (open.pop() !== e.frame) out.push(`${where}: closes frame ${String(e.frame)}, which is not the innermost open one`);
    }
    if (open.length) out.push(`${where}: ${open.length} frames never closed`);
  });
  return out;
}

const ROW = /^ {0,8}(\?|\d+(?:\/\d+)?) +(\d+\.\d{3}) ((?: {0,7}\d+\.\d{3})| {8}) +(\d+\.\d{3}) ((?: {0,7}\d+\.\d{3})| {8}) (.+)$/;

/**
 * A print_stats() section's text: the header ("N function calls [(M primitive calls)] in
 * S seconds"), "Ordered by:", any "List reduced" lines, the column titles and the rows, with
 * numbers that agree (tottime ≤ cumtime, percall = time / calls, the header's totals).
 */
export function pstatsSectionProblems(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  const head = /^ {9}(\d+) function calls (?:\((\d+) primitive calls\) )?in (\d+\.\d{3}) seconds$/.exec(lines[0] ?? '');
  if (!head) return [`header line: ${JSON.stringify(lines[0])}`];
  if (head[2] !== undefined && head[2] === head[1]) out.push('the header names primitive calls equal to the total (pstats omits them then)');
  if (lines[1] !== '') out.push('no blank line after the header');
  if (lines.length <= 3) return out;
  let i = 2;
  if (!/^ {3}Ordered by: \S/.test(lines[i] ?? '')) out.push(`"Ordered by" line: ${JSON.stringify(lines[i])}`);
  i++;
  while (/^ {3}List reduced from \d+ to \d+ due to restriction <.+>$/.test(lines[i] ?? '')) i++;
  if (lines[i++] !== '') out.push('no blank line before the column titles');
  if (lines[i++] !== '   ncalls  tottime  percall  cumtime  percall filename:lineno(function)') out.push(`column titles: ${JSON.stringify(lines[i - 1])}`);
  for (; i < lines.length && lines[i] !== ''; i++) {
    const m = ROW.exec(lines[i]!);
    if (!m) {
      out.push(`row: ${JSON.stringify(lines[i])}`);
      continue;
    }
    const [, calls, tt, ttPer, ct, ctPer] = m;
    if (Number(tt) > Number(ct)) out.push(`tottime > cumtime: ${lines[i]}`);
    if (calls === '?') {
      if (ttPer!.trim() || ctPer!.trim()) out.push(`percall without a call count: ${lines[i]}`);
      continue;
    }
    const [n, prim] = calls!.split('/').map(Number) as [number, number | undefined];
    if (prim !== undefined && prim > n) out.push(`more primitive calls than calls: ${lines[i]}`);
    if (n > 0 && !ttPer!.trim()) out.push(`no tottime percall: ${lines[i]}`);
    // A printed time is within 0.0005 of the truth, so per call within 0.0005 / n.
    if (n > 0 && Math.abs(Number(ttPer) - Number(tt) / n) > 0.0005 + 0.0005 / n + 1e-9) out.push(`tottime percall is not tottime/ncalls: ${lines[i]}`);
    const c = prim ?? n;
    if (c > 0 && Math.abs(Number(ctPer) - Number(ct) / c) > 0.0005 + 0.0005 / c + 1e-9) out.push(`cumtime percall is not cumtime/primitive calls: ${lines[i]}`);
  }
  if (lines[i] !== '' || lines[i + 1] !== '') out.push('a table ends with two blank lines');
  return out;
}
