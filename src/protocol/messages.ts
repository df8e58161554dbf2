/**
 * Host ⇄ webview messages and the page's initial payload. One file of types shared by the
 * extension host (src/extension), the webview (webview/) and the standalone report.html
 * (src/core/reportHtml.ts). Every message is a discriminated union keyed on `type`; each side
 * switches on it and ignores (and logs) what it does not know.
 */
import type { Report } from './report';
import type { ScalingResult } from './scaling';

/** Name of the global the page's nonce'd script sets before the webview bundle runs. */
export const PAGE_DATA_GLOBAL = '__PARPROF_DATA__';

/** What the page shows: one profiled run, or a scaling experiment. Injected once. */
export type PagePayload = ReportPayload | ScalingPayload;

/** One profiled run. */
export interface ReportPayload {
  kind: 'report';
  report: Report;
  /** The timeline in binary columns; when present, `report.timeline`'s arrays are empty. */
  packedTimeline?: PackedTimeline;
  /** Directory the report was written to, for display. */
  outDir?: string | null;
}

/** A scaling experiment (speedup, efficiency, Amdahl fit). */
export interface ScalingPayload {
  kind: 'scaling';
  scaling: ScalingResult;
}

/**
 * The timeline (Report.timeline's slices) as a compact byte stream, so ten million slices
 * load in a second or two instead of through JSON. Slices are grouped by lane (thread index,
 * ascending) and sorted by start within a lane; times are integer ticks of `tickUs` µs.
 * Each slice is a header byte then unsigned LEB128 varints:
 *   header bits 0–1 state; bit 2 a gap follows; bit 3 a stack follows (else the lane's
 *   previous stack, -1 at a lane's start); bit 4 a label follows;
 *   [gap: zigzag(start − previous end in the lane; a lane starts at laneStartTicks)]
 *   duration; [stack + 1]; [label + 1].
 * Decoding is one pass of simple byte reads, faster in a page than gzip or JSON.
 */
export interface PackedTimeline {
  version: 3;
  count: number;
  tickUs: number;
  /** Slices per lane, indexed like Report.threads. */
  laneCounts: number[];
  /** Start of each lane's first slice, in ticks. */
  laneStartTicks: number[];
  labels: string[];
  /** Length of the byte stream. */
  byteLength: number;
  /** The byte stream, base64; or empty when it sits in the page's `dataClass` elements. */
  data: string;
  /** Class of non-executed `<script type="application/octet-stream">` elements holding the
   *  stream as base64 chunks, in document order (each chunk decodes on its own). */
  dataClass?: string;
  /** A coarse picture drawn before the stream is decoded: per lane, OVERVIEW_BUCKETS buckets
   *  over [0, overviewSpanMs), 4 bytes each (share of the bucket in each state × 255), base64. */
  overview?: string[];
  overviewSpanMs?: number;
  /** Largest stack id in the stream (lets the decoder pick 16-bit stacks up front). */
  maxStack?: number;
}

/** Buckets per lane of PackedTimeline.overview. */
export const OVERVIEW_BUCKETS = 4096;

/** Export formats the panel offers. */
export type ExportFormat = 'chrome' | 'cpuprofile' | 'pstats' | 'json';

/** Messages the webview posts to the host. The host validates each before use. */
export type WebviewToHost =
  /** The page has read its payload and drawn; the host may now post messages. */
  | { type: 'ready' }
  /** Open a file at a 1-based line and column in the editor. */
  | { type: 'openSource'; file: string; line: number; column: number }
  /** Export the shown run in a format. */
  | { type: 'export'; format: ExportFormat }
  /** The user picked a thread in the function table (-1 = merged); the host may sync code lenses. */
  | { type: 'selectThread'; threadId: number }
  /** Open the full profile of one scaling run. */
  | { type: 'openRun'; outDir: string }
  /** A webview error worth showing in the host's log. */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** Views of the report page, for `reveal`. */
export type ViewName = 'timeline' | 'functions' | 'charts' | 'races' | 'locks' | 'deadlocks';

/** Messages the host posts to the webview. The webview ignores malformed ones. */
export type HostToWebview =
  /** Replace the shown payload (e.g. a re-run into the same panel). */
  | { type: 'load'; payload: PagePayload }
  /** Switch to a view. */
  | { type: 'reveal'; view: ViewName }
  /** Select the function row at this source position (e.g. from a code lens). */
  | { type: 'showFunction'; file: string; line: number; threadId?: number }
  /** An export finished (path) or failed (error). */
  | { type: 'exported'; format: ExportFormat; path: string | null; error: string | null };

/** Every `type` the webview may post, for the host's validation. */
export const WEBVIEW_MESSAGE_TYPES: readonly WebviewToHost['type'][] = [
  'ready',
  'openSource',
  'export',
  'selectThread',
  'openRun',
  'log',
];
