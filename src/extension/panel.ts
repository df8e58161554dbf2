/**
 * One webview panel per run (a profile report or a scaling experiment), titled with the file
 * and time. Resources are limited to the extension's out/ and media/; the data is injected
 * once; every message from the page is validated before the host acts on it.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import type { ScalingResult } from '../protocol/scaling';
import { exportRunFile } from './exports';
import type { HostToWebview, PagePayload, WebviewToHost } from '../protocol/messages';
import { packPayload } from '../core/reportHtml';
import { panelHtml } from './panelHtml';
import { openSourceLocation } from './sourceLinks';
import { parseWebviewMessage } from './webviewMessages';

/** What a panel shows, plus where its files are. */
export type PanelContent =
  { kind: 'report'; report: Report; outDir: string; startedAt: Date } | { kind: 'scaling'; scaling: ScalingResult; startedAt: Date };

/** Hooks the panel needs from the rest of the extension. */
export interface PanelHost {
  log(message: string): void;
  /** Opens the full profile of one scaling run. */
  openRunDir(outDir: string): Promise<void>;
}

/** The title shown on a panel's tab, e.g. "matmul.js · 23:41:07". */
export function panelTitle(content: PanelContent): string {
  const file = content.kind === 'report' ? content.report.program.file : content.scaling.file;
  const time = content.startedAt.toLocaleTimeString('en-GB', { hour12: false });
  return `${content.kind === 'scaling' ? 'Scaling: ' : ''}${basename(file)} · ${time}`;
}

/** A live panel. */
export class ProfilePanel {
  static readonly viewType = 'parallelProfiler.panel';
  private static readonly live = new Set<ProfilePanel>();
  /** True once the page told the host it has rendered. */
  ready = false;
  readonly title: string;
  /** Thread picked in the function table (null = merged): the .cpuprofile export takes it. */
  selectedThread: number | null = null;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    readonly content: PanelContent,
    private readonly extensionUri: vscode.Uri,
    private readonly host: PanelHost,
  ) {
    this.title = panel.title;
    const webview = panel.webview;
    const scriptUri = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', 'webview.js'));
    const styleUri = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', 'webview.css'));
    const payload: PagePayload =
      content.kind === 'report' ? packPayload(content.report, { outDir: content.outDir }) : { kind: 'scaling', scaling: content.scaling };
    webview.html = panelHtml({
      title: panel.title,
      cspSource: webview.cspSource,
      scriptUri: scriptUri.toString(),
      styleUri: styleUri.toString(),
      payload,
    });
    webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw));
    panel.onDidDispose(() => ProfilePanel.live.delete(this));
    ProfilePanel.live.add(this);
  }

  /** Opens a new panel beside the editor. */
  static open(extensionUri: vscode.Uri, content: PanelContent, host: PanelHost): ProfilePanel {
    const panel = vscode.window.createWebviewPanel(
      ProfilePanel.viewType,
      panelTitle(content),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'out'), vscode.Uri.joinPath(extensionUri, 'media')],
      },
    );
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
    return new ProfilePanel(panel, content, extensionUri, host);
  }

  /** Every panel still open, oldest first. */
  static all(): ProfilePanel[] {
    return [...ProfilePanel.live];
  }

  /** Sends a typed message to the page. */
  post(msg: HostToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(msg);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.host.log(`panel: ignored malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    try {
      await this.handle(msg);
    } catch (e) {
      void vscode.window.showErrorMessage(`Parallel Profiler: ${(e as Error).message}`);
    }
  }

  private async handle(msg: WebviewToHost): Promise<void> {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        return;
      case 'log':
        this.host.log(`webview ${msg.level}: ${msg.message}`);
        return;
      case 'openSource': {
        const cwd = this.content.kind === 'report' ? this.content.report.program.cwd : undefined;
        await openSourceLocation(msg.file, msg.line, msg.column, cwd);
        return;
      }
      case 'export': {
        if (this.content.kind !== 'report') return;
        try {
          const saved = await exportRunFile(this.content.outDir, this.content.report, msg.format, this.selectedThread);
          void this.post({ type: 'exported', format: msg.format, path: saved?.fsPath ?? null, error: null });
        } catch (e) {
          void this.post({ type: 'exported', format: msg.format, path: null, error: (e as Error).message });
          throw e;
        }
        return;
      }
      case 'selectThread':
        this.selectedThread = msg.threadId === -1 ? null : msg.threadId;
        return;
      case 'openRun': {
        // Only directories this experiment produced: never an arbitrary path from the page.
        if (this.content.kind !== 'scaling') return;
        const known = this.content.scaling.rows.flatMap((r) => r.runs.map((run) => run.outDir)).filter((d): d is string => !!d);
        if (!known.includes(msg.outDir)) {
          this.host.log(`panel: openRun for an unknown directory ignored: ${msg.outDir}`);
          return;
        }
        await this.host.openRunDir(msg.outDir);
        return;
      }
    }
  }
}
