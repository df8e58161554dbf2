/**
 * The standalone report.html: the webview bundle and its CSS inlined, the report embedded once
 * (a script setting window.__PARPROF_DATA__, the timeline as packed binary columns in a
 * non-executed element), openable from disk with no server. Also packs payloads for the
 * VS Code panel (`renderPayloadScripts`), so both pages load the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OVERVIEW_BUCKETS, type PackedTimeline, type PagePayload } from '../protocol/messages';
import type { Report, TimelineData } from '../protocol/report';

/** Options of buildReportHtml. */
export interface ReportHtmlOptions {
  /** Directory holding webview.js and webview.css (default: <package root>/out). */
  assetsDir?: string;
  /** Page title (default: "Parallel Profiler — <program file>"). */
  title?: string;
  /** Directory the report was written to, shown in the page. */
  outDir?: string | null;
}

/** Finds the package root (the folder with our package.json) above this file. */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"parallel-profiler"/.test(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`report.html: cannot find the parallel-profiler package above ${__dirname}`);
    dir = up;
  }
}

/** Builds the standalone report page. */
export function buildReportHtml(report: Report, opts: ReportHtmlOptions = {}): string {
  const title = opts.title ?? `Parallel Profiler — ${report.program.file.split(/[\\/]/).pop() ?? 'report'}`;
  return buildPageHtml(packPayload(report, opts), { ...opts, title });
}

/** Builds a standalone page for any payload (a report, or a scaling experiment). */
export function buildPageHtml(payload: PagePayload, opts: ReportHtmlOptions = {}): string {
  const assets = opts.assetsDir ?? join(packageRoot(), 'out');
  const js = readFileSync(join(assets, 'webview.js'), 'utf8');
  const css = readFileSync(join(assets, 'webview.css'), 'utf8');
  const title = opts.title ?? 'Parallel Profiler';
  const parts = renderPayloadParts(payload);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // No network at all: everything the page needs is inline.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; connect-src data: blob:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${css.replace(/<\/style/gi, '<\\/style')}</style>`,
    '</head>',
    '<body>',
    '<div id="app"><p>Loading the report…</p></div>',
    parts.head,
    `<script>${js.replace(/<\/script/gi, '<\\/script')}</script>`,
    parts.data,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The report payload with its timeline packed into binary columns. */
export function packPayload(report: Report, opts: { outDir?: string | null } = {}): PagePayload {
  // Ticks of a tenth of the sampling interval: finer than the data's own resolution, and
  // small integers make short varints.
  const tickUs = Math.max(1, Math.floor((report.tool.sampleIntervalUs || 10) / 10));
  const packedTimeline = packTimeline(report.timeline, report.threads.length, tickUs);
  const empty: TimelineData = { thread: [], start: [], end: [], state: [], stack: [], label: [], labels: [], wakeups: report.timeline.wakeups };
  return { kind: 'report', report: { ...report, timeline: empty }, packedTimeline, outDir: opts.outDir ?? null };
}

/**
 * The `<script>` elements that hand a payload to the webview bundle: one (nonce'd when a
 * nonce is given) setting window.__PARPROF_DATA__, and the packed timeline's base64 in
 * non-executed elements the bundle reads once and removes. Place before the bundle's script.
 */
export function renderPayloadScripts(payload: PagePayload, nonce?: string): string {
  const { head, data } = renderPayloadParts(payload, nonce);
  return `${head}\n${data}`;
}

/**
 * The same as renderPayloadScripts in two parts: `head` sets the global (put it before the
 * bundle), `data` holds the timeline stream (put it after the bundle, so the page draws the
 * overview while the browser is still parsing the stream).
 */
export function renderPayloadParts(payload: PagePayload, nonce?: string): { head: string; data: string } {
  const n = nonce ? ` nonce="${escapeHtml(nonce)}"` : '';
  let data = '';
  let page = payload;
  if (payload.kind === 'report' && payload.packedTimeline?.data) {
    const cls = 'parprof-timeline';
    const b64 = payload.packedTimeline.data;
    // 64 KiB chunks (whole base64 quanta): the HTML parser takes many small elements faster than one huge one.
    const parts: string[] = [];
    for (let i = 0; i < b64.length; i += 65536) parts.push(`<script type="application/octet-stream" class="${cls}">${b64.slice(i, i + 65536)}</script>`);
    data = parts.join('\n');
    page = { ...payload, packedTimeline: { ...payload.packedTimeline, data: '', dataClass: cls } };
  }
  return { head: `<script${n}>window.__PARPROF_DATA__ = ${scriptJson(page)};</script>`, data };
}

/** A JS expression for the value, safe inside a <script> element: JSON.parse of a string
 *  literal, which V8 reads much faster than a large object literal. */
function scriptJson(value: unknown): string {
  const literal = JSON.stringify(JSON.stringify(value)).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `JSON.parse(${literal})`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Packs Report.timeline into PackedTimeline's byte stream (see its doc in messages.ts). */
export function packTimeline(tl: TimelineData, laneCount: number, tickUs = 1): PackedTimeline {
  const n = tl.start.length;
  const counts = new Array<number>(laneCount).fill(0);
  for (let i = 0; i < n; i++) {
    const l = tl.thread[i]!;
    if (l >= 0 && l < laneCount) counts[l]!++;
  }
  const offset = new Int32Array(laneCount + 1);
  for (let l = 0; l < laneCount; l++) offset[l + 1] = offset[l]! + counts[l]!;
  const total = offset[laneCount]!;
  const fill = offset.slice(0, laneCount);
  const order = new Int32Array(total);
  for (let i = 0; i < n; i++) {
    const l = tl.thread[i]!;
    if (l >= 0 && l < laneCount) order[fill[l]!++] = i;
  }
  for (let l = 0; l < laneCount; l++) {
    const lane = order.subarray(offset[l]!, offset[l + 1]!);
    let sorted = true;
    for (let j = 1; j < lane.length && sorted; j++) sorted = tl.start[lane[j - 1]!]! <= tl.start[lane[j]!]!;
    if (!sorted) lane.sort((a, b) => tl.start[a]! - tl.start[b]!);
  }
  let out = new Uint8Array(Math.max(64, total * 5));
  let at = 0;
  const put = (v: number): void => {
    while (v >= 128) {
      out[at++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    out[at++] = v;
  };
  const laneStartTicks: number[] = [];
  const perMs = 1000 / tickUs;
  let spanTicks = 1;
  for (let i = 0; i < n; i++) spanTicks = Math.max(spanTicks, Math.round(tl.end[i]! * perMs));
  const overview: string[] = [];
  const cov = new Float64Array(OVERVIEW_BUCKETS * 4);
  const bucketTicks = spanTicks / OVERVIEW_BUCKETS;
  for (let l = 0; l < laneCount; l++) {
    // Integer ticks end to end, so the decoder rebuilds every start exactly.
    const first = offset[l]! < offset[l + 1]! ? Math.round(tl.start[order[offset[l]!]!]! * perMs) : 0;
    laneStartTicks.push(first);
    let end = first;
    let prevStack = -1;
    cov.fill(0);
    for (let j = offset[l]!; j < offset[l + 1]!; j++) {
      if (at + 32 > out.length) {
        const grown = new Uint8Array(Math.ceil(out.length * 1.5));
        grown.set(out);
        out = grown;
      }
      const i = order[j]!;
      const s = Math.round(tl.start[i]! * perMs);
      const e = Math.max(s, Math.round(tl.end[i]! * perMs));
      const gap = s - end;
      const stack = tl.stack[i] ?? -1;
      const label = tl.label[i] ?? -1;
      out[at++] = (tl.state[i]! & 3) | (gap !== 0 ? 4 : 0) | (stack !== prevStack ? 8 : 0) | (label >= 0 ? 16 : 0);
      if (gap !== 0) put(gap > 0 ? 2 * gap : -2 * gap - 1);
      put(e - s);
      if (stack !== prevStack) put(stack + 1);
      if (label >= 0) put(label + 1);
      prevStack = stack;
      end = e;
      addCoverage(cov, s / bucketTicks, e / bucketTicks, tl.state[i]! & 3);
    }
    const q = new Uint8Array(cov.length);
    for (let k = 0; k < cov.length; k++) q[k] = Math.min(255, Math.round(cov[k]! * 255));
    overview.push(Buffer.from(q.buffer).toString('base64'));
  }
  let maxStack = -1;
  for (let i = 0; i < n; i++) if (tl.stack[i]! > maxStack) maxStack = tl.stack[i]!;
  return { version: 3, count: total, tickUs, laneCounts: counts, laneStartTicks, labels: tl.labels ?? [], byteLength: at, data: Buffer.from(out.buffer, 0, at).toString('base64'), overview, overviewSpanMs: spanTicks / perMs, maxStack };
}

/** Adds [x0, x1) (in buckets) to per-bucket coverage of one state. */
function addCoverage(cov: Float64Array, x0: number, x1: number, state: number): void {
  const cells = cov.length / 4;
  x1 = Math.min(cells, x1);
  while (x0 < x1) {
    const c = Math.floor(x0);
    const next = Math.min(x1, c + 1);
    cov[c * 4 + state]! += next - x0;
    x0 = next;
  }
}
