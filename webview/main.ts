/**
 * Entry of the webview bundle (VS Code panel and standalone report.html alike). Reads the
 * payload the page injected once (window.__PARPROF_DATA__, or a later `load` message), then
 * builds the report views (header, timeline, functions, charts, races, locks, deadlocks) or
 * the scaling view. Posts through acquireVsCodeApi() when present, else stands alone.
 */
import { PAGE_DATA_GLOBAL, type HostToWebview, type PackedTimeline, type PagePayload, type ReportPayload, type ViewName } from '../src/protocol/messages';
import { createCharts } from './charts';
import { h } from './dom';
import { createDeadlocks, createLocks, createRaces } from './findings';
import { createFunctionTable, type FunctionTableHandle } from './functionTable';
import { createHeader } from './header';
import { parseHostMessage, post } from './host';
import { createScaling } from './scalingView';
import { decodeBase64, modelBytes, modelFromColumns, modelFromOverview, modelFromPacked, type TimelineModel } from './timelineModel';
import { createTimeline, type TimelineHandle } from './timelineView';

/** What tests and the benchmark can reach through window.__parprof. */
interface TestHooks {
  /** ms from script start to first draw; readyAt is since navigation start. */
  loadMs: number;
  readyAt?: number;
  /** performance.now() when the full timeline replaced the overview. */
  completeAt?: number;
  /** performance.now() at each loading step, for the benchmark. */
  phases: Record<string, number>;
  slices: number;
  modelBytes: number;
  timeline?: TimelineHandle;
  functions?: FunctionTableHandle;
  show?: (view: ViewName) => void;
  pointAt?: (chart: string, workers: number) => { x: number; y: number } | null;
}

declare global {
  interface Window {
    __parprof?: TestHooks;
    __PARPROF_DATA__?: PagePayload;
  }
}

const t0 = performance.now();
const phases: Record<string, number> = { script: t0 };
let showView: ((v: ViewName) => void) | null = null;
let table: FunctionTableHandle | null = null;

/** The packed stream's bytes: inline base64, or chunks in the page's data elements. */
function packedBytes(p: PackedTimeline): Uint8Array {
  if (p.data) return decodeBase64(p.data);
  const bytes = new Uint8Array(p.byteLength);
  let at = 0;
  // Decode each chunk straight into place where the browser can (no temporary buffers).
  const setFromBase64 = (Uint8Array.prototype as unknown as { setFromBase64?: (s: string) => { written: number } }).setFromBase64;
  for (const el of Array.from(document.getElementsByClassName(p.dataClass ?? ''))) {
    const text = el.textContent ?? '';
    if (setFromBase64) at += setFromBase64.call(bytes.subarray(at), text).written;
    else {
      const part = decodeBase64(text);
      bytes.set(part.subarray(0, Math.max(0, bytes.length - at)), at);
      at += part.length;
    }
    el.remove();
  }
  if (at < p.byteLength) throw new Error('the page holds only part of the timeline');
  return bytes;
}

/** Resolves once the HTML parser has read the whole page (the data elements follow the bundle). */
function parsed(): Promise<void> {
  return document.readyState === 'loading' ? new Promise((r) => document.addEventListener('DOMContentLoaded', () => r(), { once: true })) : Promise.resolve();
}

/** Decodes the full timeline model (after the page is parsed). */
async function fullModel(payload: ReportPayload): Promise<TimelineModel> {
  const p = payload.packedTimeline;
  const report = payload.report;
  if (!p) return modelFromColumns(report.timeline, report.threads.length);
  await parsed();
  phases.parsed = performance.now();
  const bytes = packedBytes(p);
  p.data = '';
  phases.base64 = performance.now();
  const model = modelFromPacked(p, bytes);
  phases.model = performance.now();
  // Give report.json exports the labels back; slices stay in the model only.
  report.timeline.labels = p.labels;
  return model;
}

async function showReport(root: HTMLElement, payload: ReportPayload): Promise<void> {
  const report = payload.report;
  // Draw the encoder's overview first when there is one; decode the slices after a paint.
  const overview = payload.packedTimeline ? modelFromOverview(payload.packedTimeline) : null;
  const model = overview ?? (await fullModel(payload));
  const hooks: TestHooks = { loadMs: 0, slices: model.start.length, modelBytes: modelBytes(model), phases };
  window.__parprof = hooks;

  const timeline = createTimeline(report, model);
  table = createFunctionTable(report);
  const charts = createCharts(report);
  const views: [ViewName, string, HTMLElement, (() => void) | null][] = [
    ['timeline', 'Timeline', timeline.element, () => timeline.resize()],
    ['functions', 'Functions', table.element, () => table?.refresh()],
    ['charts', 'Charts', charts.element, () => charts.draw()],
    ['races', `Races (${report.races.length})`, createRaces(report), null],
    ['locks', `Locks (${report.locks.length})`, createLocks(report), null],
    ['deadlocks', `Deadlocks (${report.deadlocks.length})`, createDeadlocks(report), null],
  ];
  const tabs = h('nav', { class: 'tabs', role: 'tablist' });
  const panes = h('main', { class: 'panes' });
  for (const [name, label, el] of views) {
    tabs.append(h('button', { class: 'tab', role: 'tab', 'data-view': name, onclick: () => show(name) }, label));
    el.classList.add('pane');
    el.dataset.pane = name;
    el.hidden = true;
    panes.append(el);
  }
  function show(name: ViewName): void {
    for (const [n, , el, onShow] of views) {
      el.hidden = n !== name;
      if (n === name) onShow?.();
    }
    for (const b of tabs.children) b.classList.toggle('active', (b as HTMLElement).dataset.view === name);
    document.body.dataset.view = name;
  }
  showView = show;
  root.replaceChildren(createHeader(report), tabs, panes);
  show(report.races.length || report.deadlocks.length ? (report.deadlocks.some((d) => d.kind === 'cycle') ? 'deadlocks' : 'timeline') : 'timeline');
  hooks.timeline = timeline;
  hooks.functions = table;
  hooks.show = show;
  hooks.loadMs = performance.now() - t0;
  hooks.readyAt = performance.now();
  if (overview) {
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const full = await fullModel(payload);
    timeline.setModel(full);
    hooks.slices = full.start.length;
    hooks.modelBytes = modelBytes(full);
  }
  hooks.completeAt = performance.now();
  document.body.dataset.ready = 'report';
}

function showScaling(root: HTMLElement, payload: Extract<PagePayload, { kind: 'scaling' }>): void {
  const view = createScaling(payload.scaling);
  root.replaceChildren(view.element);
  view.draw();
  window.__parprof = { loadMs: performance.now() - t0, slices: 0, modelBytes: 0, phases, pointAt: view.pointAt };
  document.body.dataset.ready = 'scaling';
}

async function load(payload: PagePayload): Promise<void> {
  const root = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
  try {
    if (payload.kind === 'scaling') showScaling(root, payload);
    else if (payload.kind === 'report') await showReport(root, payload);
    else throw new Error(`unknown payload kind ${(payload as { kind: unknown }).kind}`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    root.replaceChildren(h('div', { class: 'error-line' }, `Could not show this report: ${message}`));
    document.body.dataset.ready = 'error';
    post({ type: 'log', level: 'error', message });
  }
}

function onHostMessage(msg: HostToWebview): void {
  switch (msg.type) {
    case 'load':
      void load(msg.payload);
      break;
    case 'reveal':
      showView?.(msg.view);
      break;
    case 'showFunction':
      showView?.('functions');
      table?.show(msg.file, msg.line, msg.threadId);
      break;
    case 'exported':
      document.body.dataset.lastExport = msg.path ?? msg.error ?? '';
      break;
  }
}

window.addEventListener('message', (ev) => {
  const msg = parseHostMessage(ev.data);
  if (msg) onHostMessage(msg);
});

const injected = window[PAGE_DATA_GLOBAL as '__PARPROF_DATA__'];
if (injected) {
  // Drop the global so the page holds the data once (in the views), not twice.
  delete window.__PARPROF_DATA__;
  void load(injected).then(() => post({ type: 'ready' }));
} else post({ type: 'ready' });
