/**
 * The panel's HTML: CSP `default-src 'none'` with a per-load nonce, the webview bundle and
 * stylesheet from out/, and the data injected once as `window.__PARPROF_DATA__` by the same
 * `renderPayloadParts` the standalone report.html uses: the global before the bundle, the packed
 * timeline stream after it (so the page draws while the browser still parses the stream).
 */
import { randomBytes } from 'node:crypto';
import { renderPayloadParts } from '../core/reportHtml';
import type { PagePayload } from '../protocol/messages';

/** Inputs for one page. */
export interface PanelHtmlInput {
  title: string;
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  payload: PagePayload;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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
  const parts = renderPayloadParts(input.payload, nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${input.styleUri}">
<title>${escapeHtml(input.title)}</title>
</head>
<body>
<div id="app"><p>Loading the report…</p></div>
${parts.head}
<script nonce="${nonce}" src="${input.scriptUri}"></script>
${parts.data}
</body>
</html>`;
}
