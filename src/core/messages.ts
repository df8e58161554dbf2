/**
 * Messages between threads, columnar: a thread's sends and receipts as the loader reads them
 * (MessageLog), and the run's paired hand-offs (MessageTable). An object per message held
 * ~400 bytes a message through the analysis (2M messages: 1.1 GB of heap); these hold ~60.
 */
import type { MessageRecord } from '../protocol/events';
import type { MessageRecord as ReportMessage } from '../protocol/report';
import { Column } from './columns';
import { lowerBound } from './search';

const f64 = () => new Column(new Float64Array(16));
const i32 = () => new Column(new Int32Array(16));

/** "pid.tid.seq" of older agents' message ids → [pid, tid, seq] (NaN where unreadable). */
function parseId(id: string): [number, number, number] {
  const a = id.indexOf('.');
  const b = id.indexOf('.', a + 1);
  if (a < 0 || b < 0) return [NaN, NaN, NaN];
  return [Number(id.slice(0, a)), Number(id.slice(a + 1, b)), Number(id.slice(b + 1))];
}

/** One thread's sends and receipts, in the order it recorded them. */
export class MessageLog {
  /** Sends: time (µs), this thread's seq, the receiving tid (-1 unknown), estimated bytes (-1 unknown). */
  readonly sendUs = f64();
  readonly sendSeq = f64();
  readonly sendPeer = i32();
  readonly sendBytes = f64();
  /** Receipts: time (µs), the sender's pid, tid and seq. */
  readonly recvUs = f64();
  readonly recvPid = i32();
  readonly recvTid = i32();
  readonly recvSeq = f64();
  /** Latest time stamp seen (µs), or -Infinity. */
  lastUs = -Infinity;

  constructor(readonly pid: number) {}

  get sends(): number {
    return this.sendUs.n;
  }

  get receipts(): number {
    return this.recvUs.n;
  }

  /** Append one msg record (either format). */
  push(r: MessageRecord): void {
    const n = r.us.length;
    if (n > 0) this.lastUs = Math.max(this.lastUs, r.us[n - 1]!);
    for (let i = 0; i < n; i++) {
      const seq = r.seq ? r.seq[i]! : r.id ? parseId(r.id[i]!)[2] : NaN;
      if (r.dir === 's') {
        this.sendUs.push(r.us[i]!);
        this.sendSeq.push(seq);
        this.sendPeer.push(r.peer[i] ?? -1);
        this.sendBytes.push(r.bytes?.[i] ?? -1);
        continue;
      }
      let pid = r.pid ? r.pid[i]! : this.pid;
      let tid = r.peer[i] ?? -1;
      if (!r.seq && r.id) {
        const [p, t] = parseId(r.id[i]!);
        pid = p;
        tid = t;
      }
      this.recvUs.push(r.us[i]!);
      this.recvPid.push(pid);
      this.recvTid.push(tid);
      this.recvSeq.push(seq);
    }
  }
}

/** The run's message hand-offs, columnar, sorted by send time. */
export class MessageTable {
  constructor(
    /** Sending and receiving thread ids. */
    readonly from: Int32Array,
    readonly to: Int32Array,
    readonly sentMs: Float64Array,
    /** NaN: not received. */
    readonly receivedMs: Float64Array,
    /** -1: unknown. */
    readonly bytes: Float64Array,
  ) {}

  get length(): number {
    return this.from.length;
  }

  /** The table of report messages (tests, reports built by hand). */
  static of(messages: readonly ReportMessage[]): MessageTable {
    const n = messages.length;
    const t = new MessageTable(new Int32Array(n), new Int32Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n));
    messages.forEach((m, i) => {
      t.from[i] = m.fromThreadId;
      t.to[i] = m.toThreadId;
      t.sentMs[i] = m.sentMs;
      t.receivedMs[i] = m.receivedMs ?? NaN;
      t.bytes[i] = m.bytes ?? -1;
    });
    return t;
  }

  /** Message i as the report holds it. */
  record(i: number): ReportMessage {
    const r = this.receivedMs[i]!;
    const b = this.bytes[i]!;
    return { fromThreadId: this.from[i]!, toThreadId: this.to[i]!, sentMs: this.sentMs[i]!, receivedMs: Number.isNaN(r) ? null : r, bytes: b >= 0 ? b : null };
  }

  /** `budget` of the messages (kept in order), evenly spread over them, as report records. */
  thinned(budget: number): ReportMessage[] {
    const n = this.length;
    const k = Math.min(n, budget);
    const out = new Array<ReportMessage>(k);
    for (let i = 0; i < k; i++) out[i] = this.record(k === n ? i : Math.floor((i * n) / k));
    return out;
  }
}

/** What pairing needs of a thread. */
export interface MessageThread {
  id: number;
  pid: number;
  tid: number;
  msgs: MessageLog;
}

/** Order of a thread's sends by seq (the identity when they were recorded in order, as the agent does). */
function seqOrder(log: MessageLog): Uint32Array {
  const n = log.sends;
  const seq = log.sendSeq.a;
  const order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && !(seq[i]! > seq[i - 1]!)) sorted = false;
  }
  if (!sorted) order.sort((a, b) => seq[a]! - seq[b]! || a - b);
  return order;
}

/** Index of the send with this seq in a thread's seq order, or -1. */
function findSend(log: MessageLog, order: Uint32Array, seq: number): number {
  const s = log.sendSeq.a;
  const lo = lowerBound(order.length, (k) => s[order[k]!]! >= seq);
  return lo < order.length && s[order[lo]!] === seq ? order[lo]! : -1;
}

/**
 * Message hand-offs: each receipt paired with its send (sender pid, tid and seq); a receipt
 * whose sender's file is missing (killed early) counts from its receipt time; unreceived sends
 * to a known peer kept with no receipt time. Sorted by send time (ties in pairing order).
 */
export function pairMessages(threads: readonly MessageThread[], originUs: number): MessageTable {
  const lane = new Map<number, Map<number, number>>();
  threads.forEach((t, i) => {
    let m = lane.get(t.pid);
    if (!m) lane.set(t.pid, (m = new Map()));
    m.set(t.tid, i);
  });
  const laneOf = (pid: number, tid: number): number => lane.get(pid)?.get(tid) ?? -1;
  const orders = threads.map((t) => seqOrder(t.msgs));
  const received = threads.map((t) => new Uint8Array(t.msgs.sends));
  let cap = 0;
  for (const t of threads) cap += t.msgs.sends + t.msgs.receipts;
  const from = new Int32Array(cap);
  const to = new Int32Array(cap);
  const sent = new Float64Array(cap);
  const recv = new Float64Array(cap);
  const bytes = new Float64Array(cap);
  let n = 0;
  const ms = (us: number) => (us - originUs) / 1000;
  for (const t of threads) {
    const m = t.msgs;
    let lastPid = NaN;
    let lastTid = NaN;
    let s = -1;
    for (let i = 0; i < m.receipts; i++) {
      const pid = m.recvPid.a[i]!;
      const tid = m.recvTid.a[i]!;
      if (pid !== lastPid || tid !== lastTid) {
        s = laneOf(pid, tid);
        lastPid = pid;
        lastTid = tid;
      }
      if (s < 0) continue;
      const sender = threads[s]!.msgs;
      const j = findSend(sender, orders[s]!, m.recvSeq.a[i]!);
      from[n] = threads[s]!.id;
      to[n] = t.id;
      recv[n] = ms(m.recvUs.a[i]!);
      if (j >= 0) {
        received[s]![j] = 1;
        sent[n] = ms(sender.sendUs.a[j]!);
        bytes[n] = sender.sendBytes.a[j]!;
      } else {
        sent[n] = recv[n]!;
        bytes[n] = -1;
      }
      n++;
    }
  }
  threads.forEach((t, s) => {
    const m = t.msgs;
    for (const j of orders[s]!) {
      const peer = m.sendPeer.a[j]!;
      if (received[s]![j] || peer < 0) continue;
      const p = laneOf(t.pid, peer);
      if (p < 0) continue;
      from[n] = t.id;
      to[n] = threads[p]!.id;
      sent[n] = ms(m.sendUs.a[j]!);
      recv[n] = NaN;
      bytes[n] = m.sendBytes.a[j]!;
      n++;
    }
  });
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => sent[a]! - sent[b]! || a - b);
  const out = new MessageTable(new Int32Array(n), new Int32Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const k = order[i]!;
    out.from[i] = from[k]!;
    out.to[i] = to[k]!;
    out.sentMs[i] = sent[k]!;
    out.receivedMs[i] = recv[k]!;
    out.bytes[i] = bytes[k]!;
  }
  return out;
}
