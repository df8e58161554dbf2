/**
 * The timeline: one canvas lane per thread grouped by process, slices coloured by state,
 * thread start/exit marks, message and wake-up arrows, serial phases shaded, a time ruler.
 * Zoom with the wheel or +/-, pan by dragging or the arrow keys, hover for a tooltip, click a
 * slice for its stack. Each frame reads per-pixel coverage from the model's LOD cache.
 */
import type { Report } from '../src/protocol/report';
import { cssVar, h } from './dom';
import { fmtMs } from './format';
import { sourceLink } from './host';
import { STATES, labelOf, laneCoverage, sliceAt, type TimelineModel } from './timelineModel';

const GUTTER = 160;
const RULER = 26;
const LANE_H = 20;
const LANE_GAP = 4;
const PROC_H = 18;
const STATE_NAMES = ['running', 'idle', 'blocked', 'GC'];

/** One row of the canvas: a process header or a thread lane. */
interface Row {
  y: number;
  lane: number;
  pid: number;
}

/** Public handle, also used by tests and the benchmark through window.__parprof. */
export interface TimelineHandle {
  element: HTMLElement;
  /** Visible window in ms. */
  range(): [number, number];
  setRange(t0: number, t1: number): void;
  /** Draws now; returns the draw time in ms. */
  draw(): number;
  resize(): void;
  /** Swaps in the full model once the slices are decoded (the overview is drawn until then). */
  setModel(m: TimelineModel): void;
  laneCount: number;
}

/** Builds the timeline view for a report and its model. */
export function createTimeline(report: Report, initial: TimelineModel): TimelineHandle {
  let model = initial;
  const canvas = h('canvas', { class: 'timeline-canvas', tabindex: '0', 'aria-label': 'Thread timeline' });
  const tooltip = h('div', { class: 'tooltip', hidden: true });
  const stackPanel = h('div', { class: 'stack-panel' }, h('div', { class: 'muted' }, 'Click a slice to see its stack.'));
  const legend = h('div', { class: 'legend' }, ...STATE_NAMES.map((s, i) => h('span', { class: `key state-${i}` }, s)), h('span', { class: 'key serial' }, 'serial phase'), h('span', { class: 'key arrow' }, 'message / wake-up'), h('span', { class: 'muted' }, 'wheel or +/- zoom · drag or arrows pan · 0 resets'));
  const wrap = h('div', { class: 'timeline-wrap' }, canvas, tooltip);
  const element = h('section', { class: 'timeline' }, legend, wrap, stackPanel);

  // Lanes grouped by process: the main process first, then by pid; main thread first within.
  const order = report.threads.map((t, i) => ({ t, i })).sort((a, b) => (a.t.pid === b.t.pid ? (a.t.kind === 'main' ? -1 : b.t.kind === 'main' ? 1 : a.t.id - b.t.id) : procRank(a.t.pid) - procRank(b.t.pid)));
  function procRank(pid: number): number {
    const first = report.threads.findIndex((t) => t.pid === pid);
    return first * 1e9 + pid;
  }
  const rows: Row[] = [];
  const headers: { y: number; pid: number }[] = [];
  const laneY = new Map<number, number>();
  const threadLane = new Map<number, number>();
  let y = RULER;
  let lastPid = -1;
  const pids = new Set(report.threads.map((t) => t.pid));
  for (const { t, i } of order) {
    if (pids.size > 1 && t.pid !== lastPid) {
      headers.push({ y, pid: t.pid });
      y += PROC_H;
      lastPid = t.pid;
    }
    rows.push({ y, lane: i, pid: t.pid });
    laneY.set(i, y);
    threadLane.set(t.id, i);
    y += LANE_H + LANE_GAP;
  }
  const height = y + 6;
  canvas.dataset.lanes = String(rows.length);
  canvas.dataset.slices = String(model.start.length);
  if (model.partial) canvas.dataset.loading = 'true';

  let t0 = 0;
  let t1 = Math.max(report.wallMs, initial.spanMs);
  const fullSpan = t1;
  let width = 800;
  let selected = -1;
  let selectedLane = -1;
  let colors: string[][] = [];
  let pending = false;
  const cov = new Float32Array(8192 * STATES);
  const styles = new Int8Array(8192);

  function readColors(): void {
    const base = [cssVar('--pp-running', '#3fa34d'), cssVar('--pp-idle', '#9aa0a6'), cssVar('--pp-blocked', '#d9534f'), cssVar('--pp-gc', '#a66cd9')];
    // Four alpha steps per state, so a pixel half covered looks half strong.
    colors = base.map((c) => [0.3, 0.55, 0.8, 1].map((a) => withAlpha(c, a)));
  }

  function resize(): void {
    const dpr = window.devicePixelRatio || 1;
    width = Math.max(300, Math.floor(wrap.clientWidth || 800));
    canvas.width = Math.floor(width * dpr);
    canvas.height = Math.floor(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    readColors();
    draw();
  }

  const xOf = (t: number): number => GUTTER + ((t - t0) / (t1 - t0)) * (width - GUTTER);
  const tOf = (x: number): number => t0 + ((x - GUTTER) / (width - GUTTER)) * (t1 - t0);

  function draw(): number {
    const started = performance.now();
    pending = false;
    const ctx = canvas.getContext('2d');
    if (!ctx) return 0;
    const dpr = canvas.width / width;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const fg = cssVar('--pp-fg', '#222');
    const muted = cssVar('--pp-muted', '#888');
    const border = cssVar('--pp-border', '#ccc');
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px ' + cssVar('--pp-font', 'sans-serif');
    const plotW = width - GUTTER;
    const pxMs = (t1 - t0) / plotW;

    // Serial phases, shaded behind the lanes.
    ctx.fillStyle = cssVar('--pp-serial', 'rgba(255,170,0,0.12)');
    for (const p of report.metrics.serialPhases ?? []) {
      const a = Math.max(GUTTER, xOf(p.startMs));
      const b = Math.min(width, xOf(p.endMs));
      if (b > a) ctx.fillRect(a, RULER, Math.max(1, b - a), height - RULER);
    }

    // Lanes: per-pixel state coverage, batched into one path per (state, alpha) style.
    const cols = Math.min(plotW, 8192);
    for (const r of rows) {
      laneCoverage(model, r.lane, t0, pxMs, cols, cov);
      const paths: Path2D[] = [];
      for (let px = 0; px < cols; px++) styles[px] = pixelStyle(cov, px, pxMs);
      for (let px = 0; px < cols; ) {
        const style = styles[px]!;
        let end = px + 1;
        while (end < cols && styles[end] === style) end++;
        if (style >= 0) {
          const st = style >> 2;
          const p = (paths[style] ??= new Path2D());
          // Idle is drawn thin so running and blocked stand out.
          if (st === 1) p.rect(GUTTER + px, r.y + LANE_H / 2 - 2, end - px, 4);
          else p.rect(GUTTER + px, r.y, end - px, LANE_H);
        }
        px = end;
      }
      paths.forEach((p, style) => {
        ctx.fillStyle = colors[style >> 2]![style & 3]!;
        ctx.fill(p);
      });
      // Thread start and exit marks.
      const th = report.threads[r.lane]!;
      ctx.fillStyle = fg;
      for (const t of [th.startMs, th.endMs]) {
        const x = xOf(t);
        if (x >= GUTTER && x <= width) ctx.fillRect(x - 1, r.y - 1, 2, LANE_H + 2);
      }
      if (!th.complete) {
        const x = xOf(th.endMs);
        if (x >= GUTTER && x <= width) {
          ctx.fillStyle = colors[2]![3]!;
          ctx.fillText('✕', x + 3, r.y + 14);
        }
      }
    }

    // Selected slice outline.
    if (selected >= 0) {
      const ly = laneY.get(selectedLane);
      if (ly !== undefined) {
        const a = xOf(model.start[selected]!);
        const b = xOf(model.start[selected]! + model.dur[selected]!);
        ctx.strokeStyle = cssVar('--pp-focus', '#0078d4');
        ctx.lineWidth = 2;
        ctx.strokeRect(Math.max(GUTTER, a), ly - 1, Math.max(2, Math.min(width, b) - Math.max(GUTTER, a)), LANE_H + 2);
      }
    }

    drawArrows(ctx);

    // Gutter: process headers and thread names.
    ctx.fillStyle = cssVar('--pp-bg', '#fff');
    ctx.fillRect(0, 0, GUTTER, height);
    ctx.fillStyle = fg;
    for (const hd of headers) ctx.fillText(`process ${hd.pid}`, 4, hd.y + 13);
    for (const r of rows) {
      const th = report.threads[r.lane]!;
      ctx.fillStyle = fg;
      ctx.fillText(clip(ctx, `${th.name} (${th.id})`, GUTTER - 22), headers.length ? 14 : 4, r.y + 14);
    }
    ctx.strokeStyle = border;
    ctx.beginPath();
    ctx.moveTo(GUTTER - 0.5, RULER);
    ctx.lineTo(GUTTER - 0.5, height);
    ctx.stroke();
    drawRuler(ctx, fg, muted, border);
    return performance.now() - started;
  }

  function drawArrows(ctx: CanvasRenderingContext2D): void {
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, RULER, width - GUTTER, height - RULER);
    ctx.clip();
    ctx.lineWidth = 1;
    ctx.strokeStyle = cssVar('--pp-arrow', '#0078d4');
    ctx.beginPath();
    let drawn = 0;
    const arrow = (fromLane: number | undefined, ta: number, toLane: number | undefined, tb: number): void => {
      if (fromLane === undefined || toLane === undefined || drawn > 2000) return;
      if ((ta < t0 && tb < t0) || (ta > t1 && tb > t1)) return;
      const ya = laneY.get(fromLane);
      const yb = laneY.get(toLane);
      if (ya === undefined || yb === undefined) return;
      const xa = xOf(ta);
      const xb = xOf(tb);
      const y0 = ya + LANE_H / 2;
      const y1 = yb + LANE_H / 2;
      ctx.moveTo(xa, y0);
      ctx.lineTo(xb, y1);
      const ang = Math.atan2(y1 - y0, xb - xa);
      ctx.moveTo(xb, y1);
      ctx.lineTo(xb - 6 * Math.cos(ang - 0.4), y1 - 6 * Math.sin(ang - 0.4));
      ctx.moveTo(xb, y1);
      ctx.lineTo(xb - 6 * Math.cos(ang + 0.4), y1 - 6 * Math.sin(ang + 0.4));
      drawn++;
    };
    for (const m of report.messages) arrow(threadLane.get(m.fromThreadId), m.sentMs, threadLane.get(m.toThreadId), m.receivedMs ?? m.sentMs);
    ctx.stroke();
    ctx.beginPath();
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = colors[2]?.[3] ?? '#d9534f';
    drawn = 0;
    for (const w of report.timeline.wakeups ?? []) arrow(w.fromThread, w.fromMs, w.toThread, w.toMs);
    ctx.stroke();
    ctx.restore();
  }

  function drawRuler(ctx: CanvasRenderingContext2D, fg: string, muted: string, border: string): void {
    ctx.fillStyle = cssVar('--pp-bg', '#fff');
    ctx.fillRect(0, 0, width, RULER);
    ctx.strokeStyle = border;
    ctx.beginPath();
    ctx.moveTo(0, RULER - 0.5);
    ctx.lineTo(width, RULER - 0.5);
    const span = t1 - t0;
    const step = niceStep(span / Math.max(2, (width - GUTTER) / 110));
    ctx.fillStyle = fg;
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.moveTo(x, RULER - 8);
      ctx.lineTo(x, RULER);
      ctx.fillText(fmtMs(t), x + 3, RULER - 10);
    }
    ctx.stroke();
    ctx.fillStyle = muted;
    ctx.fillText(`${fmtMs(t0)} – ${fmtMs(t1)}`, 4, RULER - 10);
  }

  function schedule(): void {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => draw());
  }

  function setRange(a: number, b: number): void {
    const minSpan = 1e-3;
    let span = Math.max(minSpan, Math.min(fullSpan * 1.05, b - a));
    let s = a;
    if (span !== b - a) s = (a + b) / 2 - span / 2;
    s = Math.max(-fullSpan * 0.025, Math.min(s, fullSpan * 1.025 - span));
    span = Math.max(minSpan, span);
    t0 = s;
    t1 = s + span;
    element.dataset.range = `${t0.toFixed(3)},${t1.toFixed(3)}`;
  }

  function zoomAt(x: number, factor: number): void {
    const t = tOf(Math.max(GUTTER, x));
    setRange(t - (t - t0) * factor, t + (t1 - t) * factor);
    schedule();
  }

  function pan(dx: number): void {
    const dt = (dx / (width - GUTTER)) * (t1 - t0);
    setRange(t0 + dt, t1 + dt);
    schedule();
  }

  function hit(ev: MouseEvent): { lane: number; slice: number } | null {
    const rect = canvas.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    const yy = ev.clientY - rect.top;
    if (x < GUTTER) return null;
    const r = rows.find((row) => yy >= row.y && yy < row.y + LANE_H);
    if (!r) return null;
    const t = tOf(x);
    const slack = ((t1 - t0) / (width - GUTTER)) * 1.5;
    let i = sliceAt(model, r.lane, t, 0);
    if (i < 0) i = sliceAt(model, r.lane, t, slack);
    return { lane: r.lane, slice: i };
  }

  let drag: { x: number; moved: boolean } | null = null;
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const rect = canvas.getBoundingClientRect();
    if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) pan(ev.deltaX);
    else zoomAt(ev.clientX - rect.left, Math.pow(1.0015, ev.deltaY));
  }, { passive: false });
  canvas.addEventListener('mousedown', (ev) => {
    drag = { x: ev.clientX, moved: false };
    canvas.focus();
  });
  window.addEventListener('mousemove', (ev) => {
    if (drag && ev.buttons & 1) {
      const dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 2 || drag.moved) {
        drag.moved = true;
        drag.x = ev.clientX;
        pan(-dx);
      }
    }
  });
  window.addEventListener('mouseup', () => {
    setTimeout(() => (drag = null), 0);
  });
  canvas.addEventListener('mousemove', (ev) => showTooltip(ev));
  canvas.addEventListener('mouseleave', () => (tooltip.hidden = true));
  canvas.addEventListener('click', (ev) => {
    if (drag?.moved) return;
    const hitAt = hit(ev);
    if (!hitAt || hitAt.slice < 0) return;
    selected = hitAt.slice;
    selectedLane = hitAt.lane;
    showStack(hitAt.lane, hitAt.slice);
    schedule();
  });
  canvas.addEventListener('keydown', (ev) => {
    const mid = GUTTER + (width - GUTTER) / 2;
    if (ev.key === '+' || ev.key === '=') zoomAt(mid, 0.8);
    else if (ev.key === '-' || ev.key === '_') zoomAt(mid, 1.25);
    else if (ev.key === 'ArrowLeft') pan(-(width - GUTTER) * 0.1);
    else if (ev.key === 'ArrowRight') pan((width - GUTTER) * 0.1);
    else if (ev.key === '0' || ev.key === 'Home') {
      setRange(0, fullSpan);
      schedule();
    } else return;
    ev.preventDefault();
  });

  function describe(lane: number, i: number): string[] {
    const th = report.threads[lane]!;
    const lines = [`${th.name} (thread ${th.id})`, `${STATE_NAMES[model.state[i]!] ?? 'unknown'} for ${fmtMs(model.dur[i]!)}`, `at ${fmtMs(model.start[i]!)}`];
    const lab = labelOf(model, i);
    if (lab >= 0) lines.push(model.labels[lab] ?? '');
    const st = report.stacks.stacks[model.stack[i]!];
    const leaf = st && report.stacks.frames[st[st.length - 1]!];
    if (leaf) lines.push(`in ${leaf[0]}`);
    return lines;
  }

  function showTooltip(ev: MouseEvent): void {
    if (drag?.moved) return;
    const hitAt = hit(ev);
    if (!hitAt || hitAt.slice < 0) {
      tooltip.hidden = true;
      return;
    }
    tooltip.replaceChildren(...describe(hitAt.lane, hitAt.slice).map((l, k) => h('div', { class: k === 0 ? 'strong' : '' }, l)));
    tooltip.hidden = false;
    const rect = wrap.getBoundingClientRect();
    const x = ev.clientX - rect.left + 14;
    tooltip.style.left = `${Math.min(x, rect.width - 260)}px`;
    tooltip.style.top = `${ev.clientY - rect.top + 14}px`;
  }

  function showStack(lane: number, i: number): void {
    const st = report.stacks.stacks[model.stack[i]!];
    const head = h('div', { class: 'strong' }, describe(lane, i).join(' · '));
    if (!st || st.length === 0) {
      stackPanel.replaceChildren(head, h('div', { class: 'muted' }, 'No stack recorded for this slice.'));
      return;
    }
    const list = h('ol', { class: 'frames' });
    for (let k = st.length - 1; k >= 0; k--) {
      const f = report.stacks.frames[st[k]!];
      if (f) list.append(h('li', {}, h('span', { class: 'fn' }, f[0] || '(anonymous)'), ' ', sourceLink(f[1], f[2], 1)));
    }
    stackPanel.replaceChildren(head, list);
  }

  setRange(0, fullSpan);
  new ResizeObserver(() => resize()).observe(wrap);
  function setModel(m: TimelineModel): void {
    model = m;
    selected = -1;
    canvas.dataset.slices = String(m.start.length);
    delete canvas.dataset.loading;
    draw();
  }
  return { element, range: () => [t0, t1], setRange: (a, b) => setRange(a, b), draw, resize, setModel, laneCount: rows.length };
}

/** Style index (state * 4 + alpha step) of one pixel column, or -1 when empty. */
function pixelStyle(cov: Float32Array, px: number, pxMs: number): number {
  const o = px * STATES;
  const run = cov[o]!;
  const idle = cov[o + 1]!;
  const blocked = cov[o + 2]!;
  const gc = cov[o + 3]!;
  const busy = run + blocked + gc;
  if (busy <= pxMs * 0.02) return idle > pxMs * 0.02 ? 4 + 3 : -1;
  const st = run >= blocked && run >= gc ? 0 : blocked >= gc ? 2 : 3;
  const frac = busy / pxMs;
  const a = frac > 0.75 ? 3 : frac > 0.5 ? 2 : frac > 0.25 ? 1 : 0;
  return st * 4 + a;
}

function withAlpha(color: string, a: number): string {
  const c = color.trim();
  if (/^#[0-9a-f]{6}$/i.test(c)) {
    const n = parseInt(c.slice(1), 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
  }
  if (/^#[0-9a-f]{3}$/i.test(c)) {
    const [r, g, b] = [1, 2, 3].map((i) => parseInt(c[i]! + c[i]!, 16));
    return `rgba(${r},${g},${b},${a})`;
  }
  const m = /^rgba?\(([^)]+)\)$/.exec(c);
  if (m) {
    const [r, g, b] = m[1]!.split(',').map((s) => s.trim());
    return `rgba(${r},${g},${b},${a})`;
  }
  return c;
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / p;
  return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * p;
}

function clip(ctx: CanvasRenderingContext2D, s: string, w: number): string {
  if (ctx.measureText(s).width <= w) return s;
  let t = s;
  while (t.length > 1 && ctx.measureText(t + '…').width > w) t = t.slice(0, -1);
  return t + '…';
}
