/**
 * The thread's event file: records are buffered as JSON lines and written with fs.writeSync
 * on flush, so a flush from an exit or signal handler completes before the thread dies.
 * A flush may also run inside an interrupt (another thread reached this one through the
 * inspector while it computed), possibly in the middle of another flush: the buffer is taken
 * before anything that can be interrupted, so no line is written twice.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { AgentRecord } from '../protocol/events';

// Captured at load time: the user's program may patch fs later.
const { openSync, writeSync, closeSync } = fs;

const AUTO_FLUSH_CHARS = 1 << 20;

/** Append-only JSON-lines writer for one thread. */
export class EventWriter {
  private readonly fd: number;
  private lines: string[] = [];
  private chars = 0;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(record: AgentRecord): void {
    if (this.closed) return;
    const line = JSON.stringify(record);
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars > AUTO_FLUSH_CHARS) this.flush();
  }

  flush(): void {
    if (this.closed || this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.chars = 0;
    const data = Buffer.from(lines.join('\n') + '\n');
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
  }

  /** Flush and stop accepting records (the thread's last flush). */
  close(): void {
    this.flush();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      // already closed by a racing exit path
    }
  }
}

/** µs on the monotonic clock shared by every thread and process (see protocol/events.ts). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * The µs on `now`'s axis at performance.now() === 0, from the tightest of a few bracketed reads:
 * a single read taken while `performance` or the clock's first call is still being set up was
 * off by 1–3 ms, enough to misorder one thread's stamps against another's.
 */
export function perfOriginUs(now: () => number = nowUs): number {
  let best = Infinity;
  let origin = 0;
  for (let i = 0; i < 8; i++) {
    const a = performance.now();
    const us = now();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      origin = us - ((a + b) / 2) * 1000;
    }
  }
  return origin;
}
