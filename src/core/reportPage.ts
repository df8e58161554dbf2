/**
 * report.html: the full viewer from ./reportHtml (the webview bundle inlined); when the
 * webview bundle is not built (running from source without a build), a plain summary page.
 */
import type { Report } from '../protocol/report';
import { buildPstatsReport } from './exports/pstats';
import { buildReportHtml } from './reportHtml';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));

/** A standalone HTML summary of a report (threads, metrics, warnings, the pstats text). */
export function buildSimpleHtml(report: Report): string {
  const m = report.metrics;
  const rows = report.threads
    .map(
      (t) =>
        `<tr><td>${t.id}</td><td>${esc(t.name)}</td><td>${t.kind}</td><td>${fmt(t.startMs)}</td><td>${fmt(t.endMs)}</td>` +
        `<td>${fmt(t.cpuMs)}</td><td>${fmt(t.blockedMs)}</td><td>${fmt(t.idleMs)}</td><td>${t.exitCode ?? '—'}</td></tr>`,
    )
    .join('\n');
  const warnings = report.warnings.map((w) => `<li>${esc(w)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>parprof — ${esc(report.program.file)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f4f4f4}pre{background:#f8f8f8;padding:1em;overflow:auto}.warn{color:#a60}</style></head>
<body>
<h1>Parallel Profiler report</h1>
<p><b>${esc(report.program.file)}</b> ${esc(report.program.args.join(' '))} — ${esc(report.program.outcome)}${report.partial ? ' (partial)' : ''},
exit code ${report.program.exitCode ?? '—'}${report.program.error ? ` — ${esc(report.program.error)}` : ''}</p>
<p>Wall ${fmt(report.wallMs)} ms · CPU ${fmt(m.cpuMs)} ms · parallelism ${fmt(m.parallelism, 2)} · efficiency ${fmt(m.efficiency * 100, 0)}% ·
threads used ${m.threadsUsed} · races ${report.races.length} · locks ${report.locks.length} · deadlocks ${report.deadlocks.length} · backend ${esc(report.tool.backend)}</p>
${warnings ? `<ul class="warn">${warnings}</ul>` : ''}
<h2>Threads</h2>
<table><tr><th>id</th><th>name</th><th>kind</th><th>start ms</th><th>end ms</th><th>cpu ms</th><th>blocked ms</th><th>idle ms</th><th>exit</th></tr>
${rows}</table>
<h2>Functions</h2>
<pre>${esc(buildPstatsReport(report, { limit: 50, baseDir: report.program.cwd || undefined }))}</pre>
<script type="application/json" id="parprof-report">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}

/** The report page: the full viewer, or the simple page when the viewer's assets are missing. */
export function buildHtml(report: Report, outDir: string | null = null): string {
  try {
    return buildReportHtml(report, { outDir });
  } catch {
    return buildSimpleHtml(report);
  }
}
