/**
 * The panel's HTML: CSP `default-src 'none'` with a per-load nonce, the webview bundle and
 * stylesheet from out/, and the data injected once as `window.__PARPROF_DATA__`
 * (PAGE_DATA_GLOBAL).
 */
import { randomBytes } from 'node:crypto';
import { PAGE_DATA_GLOBAL, type PagePayload } from '../protocol/messages';

/** Serialises data for a <script> body: no `</script>`, no line separators that break JS. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Inputs for one page. */
export interface PanelHtmlInput {
  title: string;
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  payload: PagePayload;
  /** When the webview bundle is not built, a plain summary is shown instead. */
  bundleMissing: boolean;
}

/** Builds the page. */
export function panelHtml(input: PanelHtmlInput): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${input.cspSource} data: blob:`,
    `style-src ${input.cspSource} 'unsafe-inline'`,
    `font-src ${input.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const body = input.bundleMissing
    ? fallbackBody(input.payload)
    : `<div id="app"></div>
<script nonce="${nonce}">window.${PAGE_DATA_GLOBAL} = ${jsonForScript(input.payload)};</script>
<script nonce="${nonce}" src="${input.scriptUri}"></script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${input.bundleMissing ? '' : `<link rel="stylesheet" href="${input.styleUri}">`}
<title>${escapeHtml(input.title)}</title>
</head>
<body>
${body}
</body>
</html>`;
}

/** A plain-HTML summary used only when out/webview.js has not been built. */
function fallbackBody(payload: PagePayload): string {
  if (payload.kind === 'scaling') {
    const rows = payload.scaling.rows
      .map((r) => `<tr><td>${r.workers}</td><td>${r.medianMs.toFixed(1)}</td><td>${r.speedup?.toFixed(2) ?? '–'}</td></tr>`)
      .join('');
    return `<h2>Scaling: ${escapeHtml(payload.scaling.file)}</h2><table id="scaling"><tr><th>workers</th><th>median ms</th><th>speedup</th></tr>${rows}</table>`;
  }
  const r = payload.report;
  const threads = r.threads.map((t) => `<li data-thread="${t.id}">${escapeHtml(t.name)} (${t.kind})</li>`).join('');
  return `<h2>${escapeHtml(r.program.file)}</h2><p>${r.threads.length} threads, ${r.wallMs.toFixed(1)} ms wall</p><ul id="threads">${threads}</ul>`;
}
