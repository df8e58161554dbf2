/**
 * The standalone report.html: the webview bundle and its CSS inlined, the report embedded once
 * (a script setting window.__PARPROF_DATA__, the timeline as packed binary columns in a
 * non-executed element), openable from disk with no server. Also packs payloads for the
 * VS Code panel (`renderPayloadScripts`), so both pages load the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { PackedTimeline, PagePayload } from '../protocol/messages';
import type { Report, TimelineData } from '../protocol/report';

/** Options of buildReportHtml. */
export interface ReportHtmlOptions {
  /** Directory holding webview.js and webview.css (default: <package root>/out). */
  assetsDir?: string;
  /** Page title (default: "Parallel Profiler — <program file>"). */
  title?: string;
  /** Directory the report was written to, shown in the page. */
  outDir?: string | null;
  /** gzip the timeline columns (default: when there are more than 50,000 slices). */
  compress?: boolean;
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
    renderPayloadScripts(payload),
    `<script>${js.replace(/<\/script/gi, '<\\/script')}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The report payload with its timeline packed into binary columns. */
export function packPayload(report: Report, opts: { outDir?: string | null; compress?: boolean } = {}): PagePayload {
  const packedTimeline = packTimeline(report.timeline, report.threads.length, opts.compress);
  const empty: TimelineData = { thread: [], start: [], end: [], state: [], stack: [], label: [], labels: [], wakeups: report.timeline.wakeups };
  return { kind: 'report', report: { ...report, timeline: empty }, packedTimeline, outDir: opts.outDir ?? null };
}

/**
 * The `<script>` elements that hand a payload to the webview bundle: one (nonce'd when a
 * nonce is given) setting window.__PARPROF_DATA__, and the packed timeline's base64 in a
 * non-executed element the bundle reads once and removes. Place before the bundle's script.
 */
export function renderPayloadScripts(payload: PagePayload, nonce?: string): string {
  const n = nonce ? ` nonce="${escapeHtml(nonce)}"` : '';
  let blob = '';
  let data = payload;
  if (payload.kind === 'report' && payload.packedTimeline?.data) {
    const id = 'parprof-timeline';
    blob = `<script type="application/octet-stream" id="${id}">${payload.packedTimeline.data}</script>`;
    data = { ...payload, packedTimeline: { ...payload.packedTimeline, data: '', dataElementId: id } };
  }
  return `${blob}\n<script${n}>window.__PARPROF_DATA__ = ${scriptJson(data)};</script>`;
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Packs Report.timeline into PackedTimeline's binary columns (see its doc in messages.ts). */
export function packTimeline(tl: TimelineData, laneCount: number, compress?: boolean, tickUs = 1): PackedTimeline {
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
  let maxStack = -1;
  for (let i = 0; i < n; i++) if (tl.stack[i]! > maxStack) maxStack = tl.stack[i]!;
  const stackBytes: 2 | 4 = maxStack + 1 < 65536 ? 2 : 4;
  const labelBytes: 2 | 4 = (tl.labels?.length ?? 0) + 1 < 65536 ? 2 : 4;
  const label = labelBytes === 2 ? new Uint16Array(total) : new Uint32Array(total);
  const gap = new Int32Array(total);
  const dur = new Uint32Array(total);
  const stack = stackBytes === 2 ? new Uint16Array(total) : new Uint32Array(total);
  const state = new Uint8Array(total);
  const laneStartTicks: number[] = [];
  const perMs = 1000 / tickUs;
  for (let l = 0; l < laneCount; l++) {
    // Integer ticks end to end, so the decoder rebuilds every start exactly.
    const first = offset[l]! < offset[l + 1]! ? Math.round(tl.start[order[offset[l]!]!]! * perMs) : 0;
    laneStartTicks.push(first);
    let end = first;
    for (let j = offset[l]!; j < offset[l + 1]!; j++) {
      const i = order[j]!;
      const s = Math.round(tl.start[i]! * perMs);
      const e = Math.round(tl.end[i]! * perMs);
      gap[j] = Math.max(-0x80000000, Math.min(0x7fffffff, s - end));
      const start = end + gap[j]!;
      dur[j] = Math.max(0, Math.min(0xffffffff, e - start));
      end = start + dur[j]!;
      stack[j] = (tl.stack[i] ?? -1) + 1;
      state[j] = tl.state[i]! & 3;
      label[j] = (tl.label[i] ?? -1) + 1;
    }
  }
  const parts = [shuffle(gap), shuffle(dur), shuffle(stack), shuffle(label), state];
  const raw = new Uint8Array(total * (9 + stackBytes + labelBytes));
  let at = 0;
  for (const p of parts) {
    raw.set(p, at);
    at += p.length;
  }
  const gz = compress ?? total > 20_000;
  const bytes = gz ? gzipSync(raw, { level: 4 }) : raw;
  return { version: 2, count: total, tickUs, laneCounts: counts, laneStartTicks, stackBytes, labelBytes, labels: tl.labels ?? [], compression: gz ? 'gzip' : 'none', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** Byte-shuffles a typed array: every element's byte 0, then every byte 1, … */
function shuffle(a: Int32Array | Uint32Array | Uint16Array): Uint8Array {
  const w = a.BYTES_PER_ELEMENT;
  const src = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(src.length);
  const n = a.length;
  for (let b = 0; b < w; b++) for (let i = 0; i < n; i++) out[b * n + i] = src[i * w + b]!;
  return out;
}
