/**
 * The scaling view: speedup vs workers with the ideal line and the Amdahl fit, efficiency vs
 * workers, wall time with its spread, and the per-count table. Clicking a point opens that
 * count's profiled run (openRun).
 */
import { Chart, type ChartEvent, type ActiveElement } from 'chart.js';
import type { ScalingResult, ScalingRow } from '../src/protocol/scaling';
import { themeCharts } from './charts';
import { cssVar, h } from './dom';
import { fmtMs, fmtNum, fmtPct, shortFile } from './format';
import { inVsCode, post } from './host';

function runDir(row: ScalingRow | undefined): string | null {
  return row?.runs.find((r) => r.outDir)?.outDir ?? null;
}

/** Builds the scaling page; charts draw after the element is attached. */
export function createScaling(s: ScalingResult): { element: HTMLElement; draw(): void; pointAt(chart: string, workers: number): { x: number; y: number } | null } {
  const rows = [...s.rows].sort((a, b) => a.workers - b.workers);
  const fit = s.serialFraction;
  const speedCanvas = h('canvas', { class: 'chart', 'data-chart': 'speedup' });
  const effCanvas = h('canvas', { class: 'chart', 'data-chart': 'efficiency' });
  const wallCanvas = h('canvas', { class: 'chart', 'data-chart': 'wall' });
  const treeRows = rows.filter((r) => r.efficiencyTree);
  const factorsCanvas = treeRows.length ? h('canvas', { class: 'chart', 'data-chart': 'factors' }) : null;
  const table = h(
    'table',
    { class: 'scaling-table' },
    h('thead', {}, h('tr', {}, ...['workers', 'median wall', 'min–max', 'spread', 'speedup', 'efficiency', 'Karp–Flatt', 'profile'].map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => {
        const dir = runDir(r);
        return h(
          'tr',
          { 'data-workers': String(r.workers) },
          h('td', { class: 'num' }, String(r.workers)),
          h('td', { class: 'num' }, fmtMs(r.medianMs)),
          h('td', { class: 'num' }, `${fmtMs(r.minMs)} – ${fmtMs(r.maxMs)}`),
          h('td', { class: 'num' }, fmtPct(r.spread, 1)),
          h('td', { class: 'num' }, r.speedup === null ? '—' : `${fmtNum(r.speedup)}×`),
          h('td', { class: 'num' }, fmtPct(r.efficiency)),
          h('td', { class: 'num' }, fmtNum(r.karpFlatt, 3)),
          h('td', {}, dir ? h('button', { class: 'btn link', onclick: () => openRun(dir) }, 'open') : '—'),
        );
      }),
    ),
  );
  const fitText = fit ? `Amdahl fit: serial fraction ${fmtPct(fit.value, 1)} (95% CI ${fmtPct(fit.low, 1)}–${fmtPct(fit.high, 1)}), so at most ${fit.value > 0 ? `${fmtNum(1 / fit.value, 1)}×` : 'unbounded'} speedup${fit.r2 !== null ? ` · R² ${fmtNum(fit.r2, 3)}` : ''}` : 'Amdahl fit: needs at least two worker counts with times.';
  const element = h(
    'div',
    { class: 'scaling' },
    h('header', { class: 'report-header' }, h('div', { class: 'title-row' }, h('h1', { title: s.file }, `Scaling: ${shortFile(s.file)}`), s.cancelled ? h('span', { class: 'badge warn' }, 'cancelled') : null), h('div', { class: 'strong fit' }, fitText), h('div', { class: 'muted' }, `${s.repeat} run${s.repeat === 1 ? '' : 's'} per count · ${s.cores} cores · ${s.variable.mode === 'env' ? `env ${s.variable.name}` : `arg ${s.variable.template}`}`), s.warnings.length ? h('ul', { class: 'warnings' }, ...s.warnings.map((w) => h('li', {}, w))) : null),
    h('div', { class: 'chart-grid' }, h('div', { class: 'chart-box' }, speedCanvas), h('div', { class: 'chart-box' }, effCanvas), h('div', { class: 'chart-box' }, wallCanvas), factorsCanvas ? h('div', { class: 'chart-box' }, factorsCanvas) : null),
    table,
  );

  function openRun(outDir: string): void {
    document.body.dataset.lastOpenRun = outDir;
    if (inVsCode()) post({ type: 'openRun', outDir });
  }
  const onClick = (_e: ChartEvent, els: ActiveElement[], chart: Chart): void => {
    const el = els[0];
    if (!el) return;
    const point = chart.data.datasets[el.datasetIndex]?.data[el.index] as { x: number } | undefined;
    const dir = runDir(rows.find((r) => r.workers === point?.x));
    if (dir) openRun(dir);
  };

  const charts = new Map<string, Chart>();
  /** Page position of the first dataset's point at a worker count (tests click it). */
  function pointAt(name: string, workers: number): { x: number; y: number } | null {
    const chart = charts.get(name);
    if (!chart) return null;
    const data = chart.data.datasets[0]?.data as { x: number }[] | undefined;
    const i = data?.findIndex((d) => d.x === workers) ?? -1;
    const el = chart.getDatasetMeta(0).data[i];
    if (!el) return null;
    const r = chart.canvas.getBoundingClientRect();
    // Where the point comes to rest (chart.js animates it there from the axis on first draw).
    const at = el.getProps(['x', 'y'], true) as { x: number; y: number };
    return { x: r.left + at.x, y: r.top + at.y };
  }

  function draw(): void {
    themeCharts();
    const accent = cssVar('--pp-arrow', '#0078d4');
    const muted = cssVar('--pp-muted', '#888');
    const fitColor = cssVar('--pp-blocked', '#d9534f');
    const maxP = Math.max(1, ...rows.map((r) => r.workers));
    const curve: { x: number; y: number }[] = [];
    if (fit) for (let p = 1; p <= maxP; p += Math.max(0.05, maxP / 100)) curve.push({ x: p, y: 1 / (fit.value + (1 - fit.value) / p) });
    const linear = { type: 'linear' as const, title: { display: true, text: 'workers' }, min: 0, max: maxP + (maxP > 4 ? 1 : 0.5) };
    charts.set('speedup', new Chart(speedCanvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'measured speedup', data: rows.filter((r) => r.speedup !== null).map((r) => ({ x: r.workers, y: r.speedup! })), borderColor: accent, backgroundColor: accent, showLine: true, pointRadius: 5, pointHoverRadius: 7 },
          { label: 'ideal', data: [{ x: 1, y: 1 }, { x: maxP, y: maxP }], borderColor: muted, borderDash: [4, 4], showLine: true, pointRadius: 0 },
          ...(fit ? [{ label: `Amdahl fit f=${fmtNum(fit.value, 3)}`, data: curve, borderColor: fitColor, showLine: true, pointRadius: 0 }] : []),
        ],
      },
      options: { maintainAspectRatio: false, onClick, scales: { x: linear, y: { beginAtZero: true, title: { display: true, text: 'speedup S(p)' } } }, plugins: { title: { display: true, text: 'Speedup vs workers' } } },
    }));
    new Chart(effCanvas, {
      type: 'scatter',
      data: { datasets: [{ label: 'efficiency E(p)', data: rows.filter((r) => r.efficiency !== null).map((r) => ({ x: r.workers, y: r.efficiency! * 100 })), borderColor: accent, backgroundColor: accent, showLine: true, pointRadius: 5 }] },
      options: { maintainAspectRatio: false, onClick, scales: { x: linear, y: { min: 0, suggestedMax: 100, title: { display: true, text: 'efficiency (%)' } } }, plugins: { title: { display: true, text: 'Efficiency vs workers' } } },
    });
    new Chart(wallCanvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'median wall', data: rows.map((r) => ({ x: r.workers, y: r.medianMs })), borderColor: accent, backgroundColor: accent, showLine: true, pointRadius: 5 },
          { label: 'max', data: rows.map((r) => ({ x: r.workers, y: r.maxMs })), borderColor: muted, backgroundColor: 'rgba(128,128,128,0.15)', showLine: true, pointRadius: 2, fill: '+1' },
          { label: 'min', data: rows.map((r) => ({ x: r.workers, y: r.minMs })), borderColor: muted, showLine: true, pointRadius: 2 },
        ],
      },
      options: { maintainAspectRatio: false, onClick, scales: { x: linear, y: { beginAtZero: true, title: { display: true, text: 'wall time (ms)' } } }, plugins: { title: { display: true, text: 'Wall time (median, min–max)' } } },
    });
    if (factorsCanvas) {
      // How each efficiency factor moves with the worker count: the one that falls is what stops scaling.
      const factors: [string, string, (t: NonNullable<ScalingRow['efficiencyTree']>) => number][] = [
        ['parallel efficiency', '--pp-fg', (t) => t.parallelEfficiency],
        ['load balance', '--pp-arrow', (t) => t.loadBalance],
        ['serialisation', '--pp-blocked', (t) => t.serialisation],
        ['transfer', '--pp-gc', (t) => t.transfer],
        ['communication', '--pp-running', (t) => t.communicationEfficiency],
      ];
      new Chart(factorsCanvas, {
        type: 'scatter',
        data: { datasets: factors.map(([label, v, get]) => ({ label, data: treeRows.map((r) => ({ x: r.workers, y: get(r.efficiencyTree!) * 100 })), borderColor: cssVar(v, '#888'), backgroundColor: cssVar(v, '#888'), showLine: true, pointRadius: 3 })) },
        options: { maintainAspectRatio: false, onClick, scales: { x: linear, y: { min: 0, max: 100, title: { display: true, text: 'factor (%)' } } }, plugins: { title: { display: true, text: 'Efficiency factors vs workers' } } },
      });
    }
  }
  return { element, draw, pointAt };
}
