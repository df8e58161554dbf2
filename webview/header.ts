/**
 * The report header: program and outcome (partial, crash, deadlock stated plainly), wall and
 * CPU time, parallelism, efficiency, observed serial fraction with its Amdahl ceiling, the
 * efficiency tree with its explanations, the parallel model, warnings and exports.
 */
import type { ExportFormat } from '../src/protocol/messages';
import type { EfficiencyTree, Report } from '../src/protocol/report';
import { h } from './dom';
import { fmtMs, fmtNum, fmtPct, shortFile } from './format';
import { inVsCode, requestExport } from './host';

const OUTCOME_TEXT: Record<string, string> = {
  exited: 'exited',
  crashed: 'crashed',
  timeout: 'timed out',
  cancelled: 'cancelled',
  deadlock: 'deadlocked',
  'failed-to-start': 'failed to start',
};

/** Builds the header. */
export function createHeader(report: Report): HTMLElement {
  const p = report.program;
  const m = report.metrics;
  const bad = p.outcome !== 'exited' || (p.exitCode !== null && p.exitCode !== 0);
  const outcome = `${OUTCOME_TEXT[p.outcome] ?? p.outcome}${p.exitCode !== null ? ` (code ${p.exitCode})` : ''}${p.signal ? ` (${p.signal})` : ''}`;
  const badges = h('span', { class: 'badges' }, h('span', { class: `badge ${bad ? 'bad' : 'ok'}`, 'data-outcome': p.outcome }, outcome), report.partial ? h('span', { class: 'badge warn', title: 'Some thread did not flush all its data' }, 'partial data') : null);
  const stat = (label: string, value: string, title = ''): HTMLElement => h('div', { class: 'stat', title }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
  const stats = h(
    'div',
    { class: 'stats' },
    stat('wall time', fmtMs(report.wallMs)),
    stat('CPU time', fmtMs(m.cpuMs)),
    stat('threads', String(m.threadsUsed ?? report.threads.length)),
    stat('parallelism', fmtNum(m.parallelism), 'average number of busy threads over wall time'),
    stat('efficiency', fmtPct(m.efficiency), m.cores ? `parallelism / min(threads used, ${m.cores} cores)` : 'parallelism / threads used'),
    stat('serial fraction', fmtPct(m.observedSerialFraction, 1), 'share of wall time with at most one busy thread'),
    stat('Amdahl ceiling', m.amdahlCeiling === null ? '—' : `${fmtNum(m.amdahlCeiling, 1)}×`, 'the most speedup this serial fraction allows'),
  );
  const exportsRow = h('div', { class: 'exports' });
  const formats: [ExportFormat, string][] = inVsCode()
    ? [['chrome', 'Chrome trace'], ['cpuprofile', '.cpuprofile'], ['pstats', 'pstats'], ['json', 'report.json']]
    : [['json', 'Save report.json']];
  for (const [f, label] of formats) exportsRow.append(h('button', { class: 'btn', 'data-export': f, onclick: () => requestExport(f, () => JSON.stringify(report, null, 1)) }, label));

  const el = h(
    'header',
    { class: 'report-header' },
    h('div', { class: 'title-row' }, h('h1', { title: p.file }, shortFile(p.file), p.args.length ? h('span', { class: 'muted args' }, ` ${p.args.join(' ')}`) : null), badges, exportsRow),
    p.error ? h('div', { class: 'error-line' }, p.error) : null,
    stats,
    m.efficiencyTree ? efficiencyTree(report, m.efficiencyTree) : null,
    m.parallelModel ? h('details', { class: 'model' }, h('summary', {}, h('span', { class: 'strong' }, `Parallel model: ${m.parallelModel.kind.replace('-', ' ')}`)), m.parallelModel.evidence.length ? h('div', { class: 'muted' }, m.parallelModel.evidence.join('; ')) : null) : null,
    report.warnings.length ? h('ul', { class: 'warnings' }, ...report.warnings.map((w) => h('li', {}, w))) : null,
    h('div', { class: 'muted tool' }, `${report.tool.name} ${report.tool.version} · sampling: ${report.tool.backend} every ${report.tool.sampleIntervalUs} µs${report.tool.nodeVersion ? ` · node ${report.tool.nodeVersion}` : ''}`),
  );
  return el;
}

function bar(label: string, value: number | null, note: string, depth: number, title: string): HTMLElement {
  const v = value === null || !Number.isFinite(value) ? null : Math.max(0, Math.min(1, value));
  return h(
    'div',
    { class: `eff-row depth-${depth}`, title, 'data-factor': label },
    h('span', { class: 'eff-label' }, label),
    h('span', { class: 'eff-bar' }, h('span', { class: 'eff-fill', style: `width:${((v ?? 0) * 100).toFixed(1)}%` })),
    h('span', { class: 'eff-value' }, fmtPct(v, 0)),
    h('span', { class: 'muted eff-note' }, note),
  );
}

/** The POP-style efficiency tree, factors multiplying back to their parent. */
function efficiencyTree(report: Report, t: EfficiencyTree): HTMLElement {
  const name = (id: number | null): string => {
    const th = report.threads.find((x) => x.id === id);
    return th ? th.name : '';
  };
  const lb = t.slowestThreadId !== null ? `slowest ${name(t.slowestThreadId)}, fastest ${name(t.fastestThreadId)}` : '';
  return h(
    'div',
    { class: 'eff-tree' },
    h('div', { class: 'strong' }, 'Where the parallel efficiency went'),
    bar('parallel efficiency', t.parallelEfficiency, '= load balance × communication', 0, 'mean useful time / wall time'),
    bar('load balance', t.loadBalance, lb, 1, 'mean useful time / max useful time across threads'),
    bar('communication', t.communicationEfficiency, '= serialisation × transfer', 1, 'max useful time / wall time'),
    bar('serialisation', t.serialisation, 'waiting on other threads: locks, waits, serial phases', 2, ''),
    bar('transfer', t.transfer, 'postMessage, structured clone, queues', 2, ''),
    h('div', { class: 'eff-side muted' }, `GC took ${fmtPct(t.gcShare, 1)} of thread time${t.profilerShare !== null ? `, the profiler ${fmtPct(t.profilerShare, 1)}` : ''} — not your code's fault.`),
    // Long explanations fold away so the timeline stays on screen.
    t.explanations.length ? h('details', { class: 'explanations', open: t.explanations.length <= 3 }, h('summary', {}, `Why, in ${t.explanations.length} sentence${t.explanations.length === 1 ? '' : 's'}`), h('ul', {}, ...t.explanations.map((e) => h('li', {}, e)))) : null,
  );
}
