/**
 * Message tagging: every postMessage (Worker, parentPort, MessageChannel ports,
 * BroadcastChannel) is wrapped as `{ [TAG]: meta, v: value }` and unwrapped before any user
 * handler sees it, so sends and receipts pair by id. Unwrapping overrides the MessagePort
 * method Node dispatches every message through (kHybridDispatch); MessagePort.prototype's
 * postMessage is never patched (Node's own ports use it).
 */
import Module from 'node:module';
import wt from 'node:worker_threads';
import type { MessageRecord } from '../protocol/events';
import { walkCloneable } from './cloneWalk';
import type { AgentState } from './state';

const TAG = '__parprof$msg';
/** Slots the walk for received message ports looks at, at most. */
const PORT_WALK_BUDGET = 10_000;

/** Message channels in MessageRecord.channel. */
const CH_WORKER = 0;
const CH_PORT = 1;
const CH_BROADCAST = 2;
const CH_RECEIVE = 3;

/**
 * What a tag carries: [sender tid, seq, channel, extension data?, sender pid (IPC only)?]. One
 * array of small integers clones and parses at a fraction of the cost of an object with a string id.
 */
type Meta = [from: number, seq: number, ch: number, x?: unknown, pid?: number];
const M_FROM = 0;
const M_SEQ = 1;
const M_CH = 2;
const M_X = 3;
const M_PID = 4;

/** Columnar buffer of send events. */
class SendBatch {
  us: number[] = [];
  seq: number[] = [];
  peer: number[] = [];
  bytes: number[] = [];
  channel: number[] = [];
  add(us: number, seq: number, peer: number, bytes: number, channel: number): void {
    this.us.push(us);
    this.seq.push(seq);
    this.peer.push(peer);
    this.bytes.push(bytes);
    this.channel.push(channel);
  }
  take(): MessageRecord | null {
    if (this.us.length === 0) return null;
    const r: MessageRecord = { k: 'msg', dir: 's', us: this.us, seq: this.seq, peer: this.peer, bytes: this.bytes, channel: this.channel };
    this.us = [];
    this.seq = [];
    this.peer = [];
    this.bytes = [];
    this.channel = [];
    return r;
  }
}

/** Columnar buffer of receipts; the pid column only once a receipt came from another process. */
class ReceiveBatch {
  us: number[] = [];
  seq: number[] = [];
  peer: number[] = [];
  channel: number[] = [];
  pid: number[] | null = null;
  constructor(private readonly ownPid: number) {}
  add(us: number, seq: number, from: number, channel: number, pid: number): void {
    if (pid !== this.ownPid && this.pid === null) this.pid = this.us.map(() => this.ownPid);
    this.us.push(us);
    this.seq.push(seq);
    this.peer.push(from);
    this.channel.push(channel);
    this.pid?.push(pid);
  }
  take(): MessageRecord | null {
    if (this.us.length === 0) return null;
    const r: MessageRecord = { k: 'msg', dir: 'r', us: this.us, seq: this.seq, peer: this.peer, channel: this.channel };
    if (this.pid) r.pid = this.pid;
    this.us = [];
    this.seq = [];
    this.peer = [];
    this.channel = [];
    this.pid = null;
    return r;
  }
}

/** A cheap size estimate: exact for primitives and binary data, JSON length for small plain values, else -1. */
function estimateBytes(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return v.length;
    case 'number':
    case 'bigint':
      return 8;
    case 'boolean':
      return 1;
    case 'undefined':
      return 0;
    case 'object':
      break;
    default:
      return -1;
  }
  if (v === null) return 0;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return v.byteLength;
  const small = Array.isArray(v) ? v.length <= 32 : Object.getPrototypeOf(v) === Object.prototype && Object.keys(v).length <= 16;
  if (!small) return -1;
  try {
    return JSON.stringify(v)?.length ?? -1;
  } catch {
    return -1;
  }
}

/** The message tracker of this thread. */
export class MessageTracker {
  private seq = 0;
  private readonly sent = new SendBatch();
  private readonly received: ReceiveBatch;
  private readonly origPortPost = wt.MessagePort.prototype.postMessage;
  /** BroadcastChannel.prototype.postMessage before tagging (for the agent's own control messages). */
  readonly origBroadcastPost = wt.BroadcastChannel.prototype.postMessage;

  constructor(
    private readonly st: AgentState,
    private readonly parentTid: number | null,
  ) {
    this.received = new ReceiveBatch(st.ctx.pid);
  }

  /** Take the buffered msg records (for a flush). */
  take(): MessageRecord[] {
    const out: MessageRecord[] = [];
    const s = this.sent.take();
    if (s) out.push(s);
    const r = this.received.take();
    if (r) out.push(r);
    return out;
  }

  /** Tag a Worker.postMessage from this thread to child `peer`. */
  tagForWorker(value: unknown, peer: number): unknown {
    return this.tag(value, peer, CH_WORKER);
  }

  /** Wrap a value to send; `ipc`: to another process (the tag carries the pid, no extension data). */
  tag(value: unknown, peer: number, ch: number, ipc = false): { [TAG]: Meta; v: unknown } {
    const { ctx, ext } = this.st;
    const seq = this.seq++;
    const meta: Meta = [ctx.tid, seq, ch];
    if (ext) {
      try {
        const x = ext.beforeSend(value);
        if (x !== undefined && !ipc) meta.push(x);
      } catch (e) {
        this.st.warn(`shared-memory extension beforeSend failed: ${String(e)}`);
      }
    }
    if (ipc) meta[M_PID] = ctx.pid;
    this.sent.add(ctx.now(), seq, peer, estimateBytes(value), ch);
    return { [TAG]: meta, v: value };
  }

  /** Unwrap a tagged message (record the receipt, let the extension see it); untagged values pass. */
  untag(data: unknown, ch?: number): unknown {
    if (typeof data !== 'object' || data === null) return data;
    const meta = (data as any)[TAG] as Meta | undefined;
    if (!Array.isArray(meta)) return data;
    const value = (data as any).v;
    const pid = meta[M_PID];
    this.received.add(this.st.ctx.now(), meta[M_SEQ], meta[M_FROM], ch ?? meta[M_CH], typeof pid === 'number' ? pid : this.st.ctx.pid);
    this.patchReceivedPorts(value);
    if (this.st.ext) {
      try {
        this.st.ext.afterReceive(meta[M_X] ?? undefined, value);
      } catch (e) {
        this.st.warn(`shared-memory extension afterReceive failed: ${String(e)}`);
      }
    }
    return value;
  }

  /** Tag sends from a MessagePort object (instance patch, never the prototype). */
  patchPort(port: wt.MessagePort, peer: number, ch: number): void {
    if (Object.prototype.hasOwnProperty.call(port, 'postMessage')) return;
    const tag = (value: unknown): unknown => this.tag(value, peer, ch);
    const orig = this.origPortPost;
    Object.defineProperty(port, 'postMessage', {
      value: function postMessage(this: wt.MessagePort, value: unknown, transfer?: any) {
        return orig.call(this, tag(value), transfer);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

  /**
   * Ports that arrive inside a message (or workerData), at any depth, are new objects in this
   * thread: tag their sends too. Ports travel near the top of what carries them, so this walk
   * (run on every receipt, races on or off) looks at fewer slots than the buffer-id walk.
   */
  patchReceivedPorts(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    walkCloneable(
      value,
      (v) => {
        if (v instanceof wt.MessagePort) this.patchPort(v, -1, CH_PORT);
      },
      PORT_WALK_BUDGET,
    );
  }

  /** Install every patch of this thread. */
  install(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the patched functions need their own `this`
    const tracker = this;
    // Receipts: every port message goes through kHybridDispatch.
    const kHybridDispatch = Object.getOwnPropertySymbols(EventTarget.prototype).find((s) => s.description === 'nodejs.internal.kHybridDispatch');
    const portProto = wt.MessagePort.prototype as any;
    if (kHybridDispatch && typeof portProto[kHybridDispatch] === 'function') {
      const origDispatch = portProto[kHybridDispatch];
      Object.defineProperty(portProto, kHybridDispatch, {
        value: function (this: unknown, data: unknown, type: string, event: unknown) {
          if (type === 'message' && typeof data === 'object' && data !== null && (data as any)[TAG] !== undefined) data = tracker.untag(data);
          return origDispatch.call(this, data, type, event);
        },
        writable: true,
        configurable: true,
      });
    } else {
      this.st.warn('message tracking off: this Node has no kHybridDispatch to unwrap messages');
      return;
    }

    const origReceive = wt.receiveMessageOnPort;
    (wt as any).receiveMessageOnPort = function receiveMessageOnPort(port: any) {
      const r = origReceive(port);
      if (r && typeof r.message === 'object' && r.message !== null && r.message[TAG] !== undefined) return { message: tracker.untag(r.message, CH_RECEIVE) };
      return r;
    };

    // Worker sends are tagged by the Worker subclass (threads.ts), never on Worker.prototype:
    // Node's internal module-hooks worker extends Worker and must stay untouched.
    if (wt.parentPort) this.patchPort(wt.parentPort, this.parentTid ?? -1, CH_WORKER);

    const origBroadcastPost = this.origBroadcastPost;
    (wt.BroadcastChannel.prototype as any).postMessage = function postMessage(this: wt.BroadcastChannel, value: unknown) {
      return origBroadcastPost.call(this, tracker.tag(value, -1, CH_BROADCAST));
    };

    const OrigChannel = wt.MessageChannel;
    class MessageChannel extends OrigChannel {
      constructor() {
        super();
        tracker.patchPort(this.port1, -1, CH_PORT);
        tracker.patchPort(this.port2, -1, CH_PORT);
      }
    }
    (wt as any).MessageChannel = MessageChannel;
    if ((globalThis as any).MessageChannel === OrigChannel) (globalThis as any).MessageChannel = MessageChannel;
    (Module as any).syncBuiltinESMExports();
  }
}
