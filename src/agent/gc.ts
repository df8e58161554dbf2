/** Garbage collections of this thread (PerformanceObserver 'gc'), batched into columnar gc records. */
import { PerformanceObserver } from 'node:perf_hooks';
import type { GcRecord } from '../protocol/events';
import { perfOriginUs } from './writer';

/** Collects gc entries on the hrtime µs clock. */
export class GcTracker {
  private start: number[] = [];
  private dur: number[] = [];
  private kind: number[] = [];
  private observer: PerformanceObserver | null = null;
  /** hrtime µs at performance.now() === 0. */
  private readonly originUs: number;

  constructor(nowUs: () => number) {
    this.originUs = perfOriginUs(nowUs);
  }

  install(): void {
    this.observer = new PerformanceObserver((list) => this.add(list.getEntries()));
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private add(entries: readonly any[]): void {
    for (const e of entries) {
      this.start.push(Math.round(this.originUs + e.startTime * 1000));
      this.dur.push(Math.round(e.duration * 1000));
      this.kind.push(e.detail?.kind ?? e.kind ?? 0);
    }
  }

  /** The buffered gc record, or null when no collection happened since the last take. */
  take(final: boolean): GcRecord | null {
    if (final && this.observer) {
      const pending = (this.observer as any).takeRecords?.();
      if (pending) this.add(pending);
      this.observer.disconnect();
      this.observer = null;
    }
    if (this.start.length === 0) return null;
    const r: GcRecord = { k: 'gc', start: this.start, dur: this.dur, kind: this.kind };
    this.start = [];
    this.dur = [];
    this.kind = [];
    return r;
  }
}
