/**
 * The cProfile-style function table: ncalls, tottime, percall, cumtime, percall,
 * filename:lineno(function), per thread or merged; sortable by every column; a filter box; a
 * fixed-row-height virtual list so 100k rows scroll smoothly; callers and callees of the
 * selected row; double-click or Enter opens source.
 */
import type { FunctionRow, Report } from '../src/protocol/report';
import { h } from './dom';
import { fmtMs, fmtSec, shortFile } from './format';
import { openSource, post } from './host';

const ROW_H = 22;

interface Column {
  key: string;
  label: string;
  title: string;
  value(r: FunctionRow): number | string | null;
  text(r: FunctionRow): string;
  numeric: boolean;
}

/** "43/3" when recursion made primitive calls differ, like pstats. */
export function ncallsText(r: FunctionRow): string {
  if (r.ncalls === null) return '—';
  return r.primitiveCalls !== null && r.primitiveCalls !== r.ncalls ? `${r.ncalls}/${r.primitiveCalls}` : String(r.ncalls);
}

const perCall = (ms: number, n: number | null): number | null => (n ? ms / n : null);

/** Columns in pstats order. */
export const COLUMNS: Column[] = [
  { key: 'ncalls', label: 'ncalls', title: 'calls (total/primitive when recursive)', numeric: true, value: (r) => r.ncalls, text: ncallsText },
  { key: 'tottime', label: 'tottime', title: 'time in the function itself (s)', numeric: true, value: (r) => r.tottimeMs, text: (r) => fmtSec(r.tottimeMs) },
  { key: 'tpercall', label: 'percall', title: 'tottime / ncalls (s)', numeric: true, value: (r) => perCall(r.tottimeMs, r.ncalls), text: (r) => fmtSec(perCall(r.tottimeMs, r.ncalls)) },
  { key: 'cumtime', label: 'cumtime', title: 'time including callees (s)', numeric: true, value: (r) => r.cumtimeMs, text: (r) => fmtSec(r.cumtimeMs) },
  { key: 'cpercall', label: 'percall', title: 'cumtime / primitive calls (s)', numeric: true, value: (r) => perCall(r.cumtimeMs, r.primitiveCalls ?? r.ncalls), text: (r) => fmtSec(perCall(r.cumtimeMs, r.primitiveCalls ?? r.ncalls)) },
  { key: 'location', label: 'filename:lineno(function)', title: 'where the function is', numeric: false, value: (r) => `${r.file}:${String(r.line).padStart(8, '0')}(${r.name})`, text: (r) => (r.file ? `${shortFile(r.file)}:${r.line}(${r.name || '(anonymous)'})` : `{${r.name}}`) },
];

/** Public handle for tests and the host's showFunction. */
export interface FunctionTableHandle {
  element: HTMLElement;
  /** Selects the row of this source line (switching thread when given). */
  show(file: string, line: number, threadId?: number): boolean;
  /** Renders visible rows (after the tab becomes visible). */
  refresh(): void;
}

/** Builds the function table. */
export function createFunctionTable(report: Report): FunctionTableHandle {
  const all = report.functions;
  let threadId = all.some((f) => f.threadId === -1) ? -1 : (report.threads[0]?.id ?? 0);
  let sortKey = 'tottime';
  let sortDesc = true;
  let filter = '';
  let view: number[] = [];
  let selected = -1;

  const threadSel = h('select', { class: 'thread-select', 'aria-label': 'Thread' });
  if (all.some((f) => f.threadId === -1)) threadSel.append(h('option', { value: '-1' }, 'All threads (merged)'));
  for (const t of report.threads) threadSel.append(h('option', { value: String(t.id) }, `${t.name} (thread ${t.id})`));
  threadSel.value = String(threadId);
  const filterBox = h('input', { class: 'filter', type: 'search', placeholder: 'Filter functions or files…', 'aria-label': 'Filter' });
  const count = h('span', { class: 'muted count' });
  const headRow = h('div', { class: 'ftable-row ftable-head', role: 'row' });
  const spacer = h('div', { class: 'ftable-spacer' });
  const body = h('div', { class: 'ftable-body', tabindex: '0', role: 'grid' }, spacer);
  const related = h('div', { class: 'related' });
  const element = h('section', { class: 'functions' }, h('div', { class: 'toolbar' }, threadSel, filterBox, count), headRow, body, related);

  for (const c of COLUMNS) {
    const cell = h('div', { class: `cell ${c.numeric ? 'num' : 'loc'}`, 'data-key': c.key, title: `Sort by ${c.title}`, role: 'columnheader' }, c.label);
    cell.addEventListener('click', () => {
      if (sortKey === c.key) sortDesc = !sortDesc;
      else {
        sortKey = c.key;
        sortDesc = c.numeric;
      }
      rebuild();
    });
    headRow.append(cell);
  }

  threadSel.addEventListener('change', () => {
    threadId = Number(threadSel.value);
    post({ type: 'selectThread', threadId });
    selected = -1;
    rebuild();
  });
  filterBox.addEventListener('input', () => {
    filter = filterBox.value.trim().toLowerCase();
    rebuild();
  });

  function rebuild(): void {
    const col = COLUMNS.find((c) => c.key === sortKey)!;
    const idx: number[] = [];
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!;
      if (f.threadId !== threadId) continue;
      if (filter && !`${f.name} ${f.file}:${f.line}`.toLowerCase().includes(filter)) continue;
      idx.push(i);
    }
    const vals = new Map<number, number | string | null>();
    for (const i of idx) vals.set(i, col.value(all[i]!));
    const dir = sortDesc ? -1 : 1;
    idx.sort((a, b) => {
      const va = vals.get(a) ?? null;
      const vb = vals.get(b) ?? null;
      if (va === vb) return a - b;
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * dir;
    });
    view = idx;
    for (const cell of headRow.children) {
      const k = (cell as HTMLElement).dataset.key;
      cell.classList.toggle('sorted', k === sortKey);
      cell.setAttribute('aria-sort', k === sortKey ? (sortDesc ? 'descending' : 'ascending') : 'none');
      (cell as HTMLElement).dataset.dir = k === sortKey ? (sortDesc ? '▼' : '▲') : '';
    }
    element.dataset.rows = String(view.length);
    count.textContent = `${view.length} of ${all.filter((f) => f.threadId === threadId).length} functions`;
    spacer.style.height = `${view.length * ROW_H}px`;
    render();
    showRelated();
  }

  const pool: HTMLElement[] = [];
  function render(): void {
    const top = body.scrollTop;
    const hgt = body.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_H) - 2);
    const n = Math.min(view.length - first, Math.ceil(hgt / ROW_H) + 4);
    while (pool.length < n) {
      const row = h('div', { class: 'ftable-row', role: 'row' }, ...COLUMNS.map((c) => h('div', { class: `cell ${c.numeric ? 'num' : 'loc'}` })));
      row.addEventListener('click', () => select(Number(row.dataset.fn)));
      row.addEventListener('dblclick', () => open(Number(row.dataset.fn)));
      pool.push(row);
      body.append(row);
    }
    for (let k = 0; k < pool.length; k++) {
      const row = pool[k]!;
      if (k >= n) {
        row.hidden = true;
        continue;
      }
      const fnIdx = view[first + k]!;
      const f = all[fnIdx]!;
      row.hidden = false;
      row.dataset.fn = String(fnIdx);
      row.style.transform = `translateY(${(first + k) * ROW_H}px)`;
      row.classList.toggle('selected', fnIdx === selected);
      COLUMNS.forEach((c, ci) => {
        const cell = row.children[ci] as HTMLElement;
        cell.textContent = c.text(f);
        if (!c.numeric) cell.title = `${f.file}:${f.line}:${f.column}`;
      });
    }
  }
  body.addEventListener('scroll', () => requestAnimationFrame(render));
  new ResizeObserver(() => render()).observe(body);

  function select(fnIdx: number, scroll = false): void {
    selected = fnIdx;
    if (scroll) {
      const pos = view.indexOf(fnIdx);
      if (pos >= 0 && (pos * ROW_H < body.scrollTop || (pos + 1) * ROW_H > body.scrollTop + body.clientHeight)) body.scrollTop = pos * ROW_H - body.clientHeight / 2;
    }
    render();
    showRelated();
  }

  function open(fnIdx: number): void {
    const f = all[fnIdx];
    if (f && f.file) openSource(f.file, f.line, f.column);
  }

  body.addEventListener('keydown', (ev) => {
    const pos = view.indexOf(selected);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      const next = Math.max(0, Math.min(view.length - 1, pos + (ev.key === 'ArrowDown' ? 1 : -1)));
      if (view[next] !== undefined) select(view[next]!, true);
    } else if (ev.key === 'Enter' && selected >= 0) open(selected);
    else return;
    ev.preventDefault();
  });

  function edgeList(title: string, edges: { fn: number; timeMs: number }[] | undefined): HTMLElement {
    const list = h('ul', { class: 'edges' });
    for (const e of [...(edges ?? [])].sort((a, b) => b.timeMs - a.timeMs)) {
      const f = all[e.fn];
      if (!f) continue;
      const li = h('li', { tabindex: '0', title: `${f.file}:${f.line}` }, h('span', { class: 'num' }, fmtMs(e.timeMs)), ' ', `${f.name || '(anonymous)'} `, h('span', { class: 'muted' }, `${shortFile(f.file)}:${f.line}`));
      li.addEventListener('click', () => select(e.fn, true));
      li.addEventListener('dblclick', () => open(e.fn));
      list.append(li);
    }
    if (!list.children.length) list.append(h('li', { class: 'muted' }, 'none recorded'));
    return h('div', { class: 'edge-col' }, h('div', { class: 'strong' }, title), list);
  }

  function showRelated(): void {
    const f = all[selected];
    if (!f || f.threadId !== threadId) {
      related.replaceChildren(h('div', { class: 'muted' }, 'Select a row to see its callers and callees; double-click or Enter opens the source.'));
      return;
    }
    related.replaceChildren(h('div', { class: 'strong sel-name' }, `${f.name || '(anonymous)'} — ${shortFile(f.file)}:${f.line}`), h('div', { class: 'edge-cols' }, edgeList('Called by', f.callers), edgeList('Calls', f.callees)));
  }

  function show(file: string, line: number, tid?: number): boolean {
    if (tid !== undefined && tid !== threadId && [...threadSel.options].some((o) => o.value === String(tid))) {
      threadId = tid;
      threadSel.value = String(tid);
    }
    filter = '';
    filterBox.value = '';
    rebuild();
    const hit = view.find((i) => all[i]!.file === file && all[i]!.line === line);
    if (hit === undefined) return false;
    select(hit, true);
    return true;
  }

  rebuild();
  return { element, show, refresh: render };
}
