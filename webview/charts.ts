/**
 * chart.js charts: per-thread busy / idle / blocked / GC stacked bars and busy threads over
 * time (the run's parallelism). Created when their tab is first shown (chart.js measures
 * its canvas, which is zero-sized while hidden).
 */
import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip } from 'chart.js';
import type { Report } from '../src/protocol/report';
import { cssVar, h } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, ScatterController, Filler, Legend, Tooltip);

/** Sets chart.js defaults from the theme (call before creating charts). */
export function themeCharts(): void {
  Chart.defaults.color = cssVar('--pp-fg', '#222');
  Chart.defaults.borderColor = cssVar('--pp-grid', 'rgba(128,128,128,0.25)');
  Chart.defaults.font.family = cssVar('--pp-font', 'sans-serif');
  Chart.defaults.animation = false;
}

/** Builds the charts section; call `draw()` once it is visible. */
export function createCharts(report: Report): { element: HTMLElement; draw(): void } {
  const statesCanvas = h('canvas', { class: 'chart', 'data-chart': 'thread-states' });
  const busyCanvas = h('canvas', { class: 'chart', 'data-chart': 'busy-over-time' });
  const element = h('section', { class: 'charts' }, h('h3', {}, 'Time per thread'), h('div', { class: 'chart-box' }, statesCanvas), h('h3', {}, 'Busy threads over time'), h('div', { class: 'chart-box' }, busyCanvas));
  let drawn = false;

  function draw(): void {
    if (drawn) return;
    drawn = true;
    themeCharts();
    const labels = report.threads.map((t) => `${t.name} (${t.id})`);
    const series: [string, string, (t: Report['threads'][number]) => number | null][] = [
      ['running', '--pp-running', (t) => t.cpuMs],
      ['idle', '--pp-idle', (t) => t.idleMs],
      ['blocked', '--pp-blocked', (t) => t.blockedMs],
      ['GC', '--pp-gc', (t) => t.gcMs],
    ];
    new Chart(statesCanvas, {
      type: 'bar',
      data: { labels, datasets: series.map(([label, v, get]) => ({ label, data: report.threads.map((t) => get(t) ?? 0), backgroundColor: cssVar(v, '#888') })) },
      options: {
        indexAxis: 'y',
        maintainAspectRatio: false,
        scales: { x: { stacked: true, title: { display: true, text: 'ms' } }, y: { stacked: true } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${Number(c.raw).toFixed(1)} ms` } } },
      },
    });
    const b = report.metrics.busyOverTime ?? { bucketMs: 0, busy: [] };
    new Chart(busyCanvas, {
      type: 'line',
      data: {
        labels: b.busy.map((_, i) => ((i + 0.5) * b.bucketMs).toFixed(1)),
        datasets: [
          { label: 'busy threads', data: b.busy, borderColor: cssVar('--pp-running', '#3fa34d'), backgroundColor: cssVar('--pp-running-fill', 'rgba(63,163,77,0.25)'), fill: true, pointRadius: 0, stepped: true },
          { label: `average parallelism ${report.metrics.parallelism.toFixed(2)}`, data: b.busy.map(() => report.metrics.parallelism), borderColor: cssVar('--pp-arrow', '#0078d4'), borderDash: [5, 4], pointRadius: 0 },
        ],
      },
      options: {
        maintainAspectRatio: false,
        scales: { x: { title: { display: true, text: 'time (ms)' }, ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, title: { display: true, text: 'threads' } } },
      },
    });
  }
  return { element, draw };
}
