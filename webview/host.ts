/**
 * The webview's side of the host bridge: posts typed messages through acquireVsCodeApi() in
 * VS Code; in the standalone report.html there is no host, so source links become
 * vscode://file/… links and exports download what the page already holds.
 */
import type { ExportFormat, HostToWebview, WebviewToHost } from '../src/protocol/messages';
import { h } from './dom';

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare global {
  interface Window {
    acquireVsCodeApi?: () => VsCodeApi;
  }
}

let api: VsCodeApi | null | undefined;

/** The VS Code API, or null in the standalone page. acquireVsCodeApi may be called once only. */
export function vscodeApi(): VsCodeApi | null {
  if (api === undefined) api = typeof window.acquireVsCodeApi === 'function' ? window.acquireVsCodeApi() : null;
  return api;
}

/** True inside a VS Code webview. */
export function inVsCode(): boolean {
  return vscodeApi() !== null;
}

/** Posts a message to the host; a no-op standalone. */
export function post(message: WebviewToHost): void {
  vscodeApi()?.postMessage(message);
}

/** vscode://file URL that opens a file at a line in VS Code from a browser. */
export function vscodeUrl(file: string, line: number, column: number): string {
  const path = file.replace(/^file:\/\//, '');
  return `vscode://file${path.startsWith('/') ? '' : '/'}${encodeURI(path)}:${line}:${column}`;
}

/** Opens source: a message in VS Code, the vscode:// link standalone. Recorded for tests. */
export function openSource(file: string, line: number, column = 1): void {
  document.body.dataset.lastOpenSource = `${file}:${line}:${column}`;
  if (inVsCode()) post({ type: 'openSource', file, line, column });
  else if (!navigator.webdriver) window.location.href = vscodeUrl(file, line, column);
}

/** A clickable `file:line` link that opens source. */
export function sourceLink(file: string, line: number, column = 1, text?: string): HTMLAnchorElement {
  const a = h('a', { class: 'src', href: vscodeUrl(file, line, column), title: `${file}:${line}:${column}` }, text ?? `${shortName(file)}:${line}`);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    openSource(file, line, column);
  });
  return a;
}

function shortName(file: string): string {
  return file.replace(/^file:\/\//, '').split(/[\\/]/).slice(-2).join('/');
}

/** Asks the host to export; standalone, only report.json can be saved (from memory). */
export function requestExport(format: ExportFormat, reportJson: () => string): void {
  if (inVsCode()) {
    post({ type: 'export', format });
    return;
  }
  const blob = new Blob([reportJson()], { type: 'application/json' });
  const a = h('a', { href: URL.createObjectURL(blob), download: 'report.json' });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Validates a host message's shape; returns null for anything malformed. */
export function parseHostMessage(data: unknown): HostToWebview | null {
  if (!data || typeof data !== 'object') return null;
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'load':
      return m.payload && typeof m.payload === 'object' ? (m as unknown as HostToWebview) : null;
    case 'reveal':
      return typeof m.view === 'string' ? (m as unknown as HostToWebview) : null;
    case 'showFunction':
      return typeof m.file === 'string' && typeof m.line === 'number' ? (m as unknown as HostToWebview) : null;
    case 'exported':
      return typeof m.format === 'string' ? (m as unknown as HostToWebview) : null;
    default:
      return null;
  }
}
