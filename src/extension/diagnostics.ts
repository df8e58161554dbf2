/**
 * One DiagnosticCollection, 'parallel-profiler', shared by the Atomics lint and by findings
 * from the last run. `collection.set(uri, …)` replaces a file's list, so each producer gets
 * its own view (a DiagnosticCollection-shaped object) and the hub shows their union.
 */
import * as vscode from 'vscode';
import type { Report } from '../protocol/report';
import { reportFileUri } from './sourceLinks';

/** Who produced a diagnostic. */
export type DiagnosticSource = 'lint' | 'run';

/** The shared collection and its per-producer views. */
export class DiagnosticsHub implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('parallel-profiler');
  private readonly bySource = new Map<DiagnosticSource, Map<string, { uri: vscode.Uri; diags: readonly vscode.Diagnostic[] }>>();

  /** Replaces one producer's diagnostics for a file. */
  set(source: DiagnosticSource, uri: vscode.Uri, diags: readonly vscode.Diagnostic[] | undefined): void {
    let m = this.bySource.get(source);
    if (!m) this.bySource.set(source, (m = new Map()));
    if (diags && diags.length) m.set(uri.toString(), { uri, diags });
    else m.delete(uri.toString());
    this.refresh(uri);
  }

  /** One producer's diagnostics for a file. */
  get(source: DiagnosticSource, uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.bySource.get(source)?.get(uri.toString())?.diags ?? [];
  }

  /** Removes everything one producer reported. */
  clear(source: DiagnosticSource): void {
    const m = this.bySource.get(source);
    if (!m) return;
    const uris = [...m.values()].map((e) => e.uri);
    m.clear();
    for (const uri of uris) this.refresh(uri);
  }

  /** Files one producer reported on. */
  entries(source: DiagnosticSource): [vscode.Uri, readonly vscode.Diagnostic[]][] {
    return [...(this.bySource.get(source)?.values() ?? [])].map((e) => [e.uri, e.diags]);
  }

  private refresh(uri: vscode.Uri): void {
    const all = [...this.bySource.values()].flatMap((m) => m.get(uri.toString())?.diags ?? []);
    this.collection.set(uri, all.length ? all : undefined);
  }

  /** A DiagnosticCollection for one producer, backed by the shared collection. */
  view(source: DiagnosticSource): vscode.DiagnosticCollection {
    return viewOf(this, source);
  }

  dispose(): void {
    this.collection.dispose();
  }
}

/** A DiagnosticCollection-shaped view of one producer's share of the hub. */
function viewOf(hub: DiagnosticsHub, source: DiagnosticSource): vscode.DiagnosticCollection {
  const view: vscode.DiagnosticCollection = {
    name: hub.collection.name,
    set(a: vscode.Uri | readonly [vscode.Uri, readonly vscode.Diagnostic[] | undefined][], b?: readonly vscode.Diagnostic[]): void {
      if (Array.isArray(a)) {
        const merged = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>();
        for (const [uri, diags] of a as [vscode.Uri, readonly vscode.Diagnostic[] | undefined][]) {
          const e = merged.get(uri.toString()) ?? { uri, diags: [] };
          if (diags) e.diags.push(...diags);
          else e.diags = [];
          merged.set(uri.toString(), e);
        }
        for (const e of merged.values()) hub.set(source, e.uri, e.diags);
      } else hub.set(source, a as vscode.Uri, b);
    },
    delete: (uri) => hub.set(source, uri, undefined),
    clear: () => hub.clear(source),
    forEach(cb, thisArg) {
      for (const [uri, diags] of hub.entries(source)) cb.call(thisArg, uri, diags, view);
    },
    get: (uri) => hub.get(source, uri),
    has: (uri) => hub.get(source, uri).length > 0,
    dispose: () => hub.clear(source),
    [Symbol.iterator]: () => hub.entries(source)[Symbol.iterator](),
  } as vscode.DiagnosticCollection;
  return view;
}

function range(line: number, column = 1): vscode.Range {
  const l = Math.max(0, line - 1);
  const c = Math.max(0, column - 1);
  // Whole rest of the line from the column: the report has no end column for run findings.
  return new vscode.Range(l, c, l, Number.MAX_SAFE_INTEGER);
}

function threadName(report: Report, id: number): string {
  const t = report.threads.find((x) => x.id === id);
  return t ? `${t.name} (thread ${id})` : `thread ${id}`;
}

/** Diagnostics for races, contended locks and deadlocks of one run, keyed by file URI. */
export function runFindings(report: Report, ranAt: Date): Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }> {
  const stamp = `from run at ${ranAt.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false })}`;
  const cwd = report.program.cwd;
  const out = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>();
  const add = (file: string, d: vscode.Diagnostic) => {
    const uri = reportFileUri(file, cwd);
    const e = out.get(uri.toString()) ?? { uri, diags: [] };
    e.diags.push(d);
    out.set(uri.toString(), e);
  };
  const loc = (file: string, line: number, column = 1) => new vscode.Location(reportFileUri(file, cwd), range(line, column));

  for (const race of report.races) {
    const where = `${race.buffer}[bytes ${race.byteOffset}–${race.byteOffset + race.byteLength - 1}]`;
    race.accesses.forEach((a, i) => {
      const others = race.accesses.filter((_, j) => j !== i);
      const other = others[0];
      const d = new vscode.Diagnostic(
        range(a.line, a.column),
        `Data race (${race.kind}): ${a.op} of ${where} in ${threadName(report, a.threadId)} is unordered with ${other ? `a ${other.op} in ${threadName(report, other.threadId)}` : 'another access'}; use Atomics or a lock. ${stamp}`,
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = 'Parallel Profiler';
      d.code = 'race';
      d.relatedInformation = others.map(
        (o) =>
          new vscode.DiagnosticRelatedInformation(loc(o.file, o.line, o.column), `racing ${o.op} in ${threadName(report, o.threadId)}`),
      );
      add(a.file, d);
    });
  }

  for (const lock of report.locks) {
    if (lock.contended <= 0) continue;
    const acquires = lock.sites.filter((s) => s.role !== 'release');
    for (const s of acquires) {
      const d = new vscode.Diagnostic(
        range(s.line),
        `Contended lock ${lock.id}: ${lock.contended} of ${lock.acquisitions} acquisitions waited (${lock.waitMs.toFixed(1)} ms blocked, ${lock.spinMs.toFixed(1)} ms spinning); this site ${s.count}× in ${threadName(report, s.threadId)}. ${stamp}`,
        vscode.DiagnosticSeverity.Information,
      );
      d.source = 'Parallel Profiler';
      d.code = 'lock-contention';
      d.relatedInformation = acquires
        .filter((o) => o !== s)
        .slice(0, 8)
        .map(
          (o) =>
            new vscode.DiagnosticRelatedInformation(loc(o.file, o.line), `also ${o.role}s ${lock.id} in ${threadName(report, o.threadId)}`),
        );
      add(s.file, d);
    }
  }

  for (const dl of report.deadlocks) {
    for (const s of dl.sites) {
      const d = new vscode.Diagnostic(
        range(s.line),
        `${dl.kind === 'cycle' ? 'Deadlock' : 'Possible deadlock (lock order)'}: ${dl.message} ${stamp}`,
        dl.kind === 'cycle' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
      );
      d.source = 'Parallel Profiler';
      d.code = dl.kind === 'cycle' ? 'deadlock' : 'lock-order';
      d.relatedInformation = dl.sites
        .filter((o) => o !== s)
        .map(
          (o) =>
            new vscode.DiagnosticRelatedInformation(loc(o.file, o.line), `${threadName(report, o.threadId)}${o.role ? ` ${o.role}` : ''}`),
        );
      add(s.file, d);
    }
  }
  return out;
}

/** Replaces the previous run's findings with this run's. */
export function showRunFindings(hub: DiagnosticsHub, report: Report, ranAt: Date): number {
  hub.clear('run');
  let n = 0;
  for (const { uri, diags } of runFindings(report, ranAt).values()) {
    hub.set('run', uri, diags);
    n += diags.length;
  }
  return n;
}
