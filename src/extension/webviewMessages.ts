/**
 * Validation of messages arriving from the webview (types in src/protocol/messages.ts). The
 * webview is untrusted input: every field is checked before the host acts on it, and
 * anything else is logged and dropped.
 */
import type { ExportFormat, WebviewToHost } from '../protocol/messages';

const formats: readonly ExportFormat[] = ['chrome', 'cpuprofile', 'pstats', 'json'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function position(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < 1e9 ? v : 1;
}

function str(v: unknown, max = 4096): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !v.includes('\0') ? v : null;
}

/** Returns the checked message, or null when it is malformed or unknown. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | null {
  if (!isRecord(raw) || typeof raw.type !== 'string') return null;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'openSource': {
      const file = str(raw.file);
      return file ? { type: 'openSource', file, line: position(raw.line), column: position(raw.column) } : null;
    }
    case 'export':
      return formats.includes(raw.format as ExportFormat) ? { type: 'export', format: raw.format as ExportFormat } : null;
    case 'selectThread':
      return typeof raw.threadId === 'number' && Number.isInteger(raw.threadId) && raw.threadId >= -1
        ? { type: 'selectThread', threadId: raw.threadId }
        : null;
    case 'openRun': {
      const outDir = str(raw.outDir);
      return outDir ? { type: 'openRun', outDir } : null;
    }
    case 'log': {
      const message = str(raw.message, 10_000);
      const level = raw.level === 'warn' || raw.level === 'error' ? raw.level : 'info';
      return message ? { type: 'log', level, message } : null;
    }
    default:
      return null;
  }
}
