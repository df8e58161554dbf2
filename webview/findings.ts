/**
 * The findings views: data races (both accesses with thread, op, location and stack), lock
 * contention (sortable by wait, contention %, hold) and deadlocks. Every site opens source.
 */
import type { LockReport, Report } from '../src/protocol/report';
import { h } from './dom';
import { fmtMs, fmtPct } from './format';
import { sourceLink } from './host';

function threadName(report: Report, id: number): string {
  const t = report.threads.find((x) => x.id === id);
  return t ? `${t.name} (${id})` : `thread ${id}`;
}

/** Parses "fn (/path/file.js:12:5)" or "/path/file.js:12:5" stack lines into a link. */
function stackLine(line: string): HTMLElement {
  const m = /^(?:(.*?) \()?(.+?):(\d+)(?::(\d+))?\)?$/.exec(line.trim());
  if (!m) return h('li', {}, line);
  return h('li', {}, m[1] ? `${m[1]} ` : '', sourceLink(m[2]!, Number(m[3]), Number(m[4] ?? 1)));
}

/** The races view. */
export function createRaces(report: Report): HTMLElement {
  if (!report.races.length) return h('section', { class: 'races' }, h('p', { class: 'muted empty' }, report.tool.raceDetection ? 'No data races found.' : 'Race detection was off for this run.'));
  const cards = report.races.map((r) =>
    h(
      'div',
      { class: `card race ${r.kind}`, 'data-race': r.kind },
      h('div', { class: 'card-title' }, h('span', { class: `badge ${r.kind === 'write-write' ? 'bad' : 'warn'}` }, r.kind), ` on ${r.buffer} bytes ${r.byteOffset}–${r.byteOffset + r.byteLength - 1} (${r.byteLength} B) · ${r.count} racing pair${r.count === 1 ? '' : 's'}`),
      r.bufferInfo?.allocatedAt ? h('div', { class: 'muted' }, 'buffer allocated at ', sourceLink(r.bufferInfo.allocatedAt.file, r.bufferInfo.allocatedAt.line, r.bufferInfo.allocatedAt.column)) : null,
      h(
        'div',
        { class: 'accesses' },
        ...r.accesses.map((a) =>
          h(
            'div',
            { class: 'access' },
            h('div', {}, h('span', { class: 'strong' }, threadName(report, a.threadId)), ` ${a.op} at `, sourceLink(a.file, a.line, a.column)),
            a.threadCreatedAt ? h('div', { class: 'muted' }, 'thread created at ', sourceLink(a.threadCreatedAt.file, a.threadCreatedAt.line, a.threadCreatedAt.column)) : null,
            a.stack.length ? h('ol', { class: 'frames' }, ...a.stack.map(stackLine)) : null,
          ),
        ),
      ),
    ),
  );
  return h('section', { class: 'races' }, ...cards);
}

type LockCol = { key: string; label: string; value: (l: LockReport) => number | string; text: (l: LockReport) => string };

/** The locks view: a sortable table, one row per lock, its sites beneath. */
export function createLocks(report: Report): HTMLElement {
  if (!report.locks.length) return h('section', { class: 'locks' }, h('p', { class: 'muted empty' }, 'No locks recognised (Atomics compareExchange/exchange + notify on one buffer offset).'));
  const contention = (l: LockReport): number => (l.acquisitions ? l.contended / l.acquisitions : 0);
  const cols: LockCol[] = [
    { key: 'id', label: 'lock', value: (l) => l.id, text: (l) => `${l.id} · ${l.buffer}@${l.byteOffset} (${l.shape})` },
    { key: 'acquisitions', label: 'acquisitions', value: (l) => l.acquisitions, text: (l) => String(l.acquisitions) },
    { key: 'contention', label: 'contention', value: contention, text: (l) => `${fmtPct(contention(l), 1)} (${l.contended})` },
    { key: 'wait', label: 'wait', value: (l) => l.waitMs, text: (l) => fmtMs(l.waitMs) },
    { key: 'spin', label: 'spin', value: (l) => l.spinMs, text: (l) => fmtMs(l.spinMs) },
    { key: 'hold', label: 'hold', value: (l) => l.holdMs, text: (l) => fmtMs(l.holdMs) },
  ];
  let sortKey = 'wait';
  let desc = true;
  const table = h('table', { class: 'locks-table' });
  function render(): void {
    const col = cols.find((c) => c.key === sortKey)!;
    const rows = [...report.locks].sort((a, b) => {
      const va = col.value(a);
      const vb = col.value(b);
      return (va < vb ? -1 : va > vb ? 1 : 0) * (desc ? -1 : 1);
    });
    const head = h('tr', {}, ...cols.map((c) => h('th', { class: c.key === sortKey ? 'sorted' : '', 'data-key': c.key, 'data-dir': c.key === sortKey ? (desc ? '▼' : '▲') : '', onclick: () => sortBy(c.key) }, c.label)));
    const body: HTMLElement[] = [];
    for (const l of rows) {
      body.push(h('tr', { class: 'lock-row', 'data-lock': l.id }, ...cols.map((c) => h('td', { class: c.key === 'id' ? '' : 'num' }, c.text(l)))));
      body.push(h('tr', { class: 'lock-sites' }, h('td', { colspan: String(cols.length) }, ...l.sites.map((s) => h('span', { class: 'site' }, `${s.role} · ${threadName(report, s.threadId)} · ${s.count}× `, s.waitMs ? `${fmtMs(s.waitMs)} waiting · ` : '', sourceLink(s.file, s.line))))));
    }
    table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...body));
  }
  function sortBy(key: string): void {
    if (key === sortKey) desc = !desc;
    else {
      sortKey = key;
      desc = key !== 'id';
    }
    render();
  }
  render();
  return h('section', { class: 'locks' }, table);
}

/** The deadlocks view. */
export function createDeadlocks(report: Report): HTMLElement {
  if (!report.deadlocks.length) return h('section', { class: 'deadlocks' }, h('p', { class: 'muted empty' }, 'No deadlocks or lock-order inversions found.'));
  return h(
    'section',
    { class: 'deadlocks' },
    ...report.deadlocks.map((d) =>
      h(
        'div',
        { class: `card deadlock ${d.kind}` },
        h('div', { class: 'card-title' }, h('span', { class: `badge ${d.kind === 'cycle' ? 'bad' : 'warn'}` }, d.kind === 'cycle' ? 'deadlock' : 'lock-order inversion'), ` ${d.message}`),
        h('div', { class: 'muted' }, `threads: ${d.threadIds.map((id) => threadName(report, id)).join(', ')} · locks: ${d.locks.join(', ')}`),
        h('ul', {}, ...d.sites.map((s) => h('li', {}, `${threadName(report, s.threadId)}${s.role ? ` ${s.role}` : ''} at `, sourceLink(s.file, s.line)))),
      ),
    ),
  );
}
