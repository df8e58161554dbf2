/**
 * Reaching a thread that cannot run its event loop: one that computes without end, or waits
 * in a native Atomics.wait. V8 dispatches inspector messages by interrupt (a blocked wait
 * wakes to run them), so a `Runtime.evaluate` sent to such a worker runs `__pp.f(why)` there
 * within a millisecond or two. The main thread reaches every worker of the process through
 * one same-thread session with the NodeWorker domain (synchronous, so it works from exit and
 * signal handlers); a worker asks the main thread to do it for it (connectToMainThread). Nothing
 * is connected until the first request.
 */
import * as inspector from 'node:inspector';
import { isMainThread } from 'node:worker_threads';
import { nativeAtomics as N } from './shared/native';
import { PCTL_ATTACHING } from './state';

/** Why a thread is asked for its data: its last flush (terminate, exit, signal) or a periodic one. */
export type FlushWhy = 'terminate' | 'exit' | 'signal' | 'periodic';

/** "[worker 3] name" → 3: the title Node gives a worker's inspector target. */
const WORKER_TITLE = /^\[worker (\d+)\]/;

/** The expression a reached thread evaluates (the agent's `__pp.f`, absent in unprofiled threads). */
function flushExpression(why: FlushWhy): string {
  return `globalThis.__pp?.f?.(${JSON.stringify(why)})`;
}

/** Asks other threads of this process for a flush through the inspector. */
export class ThreadReach {
  private session: inspector.Session | null = null;
  /** Worker threadId → NodeWorker session id (main thread). */
  private readonly targets = new Map<number, string>();
  private toMain: inspector.Session | null = null;
  private failed = false;
  /** Whether a worker of this thread is shutting down (set by the thread hooks, threads.ts). */
  childExiting: () => boolean = () => false;

  /** `pctl`: the process control words (PCTL_ATTACHING), null where there is no such handshake. */
  constructor(private readonly pctl: Int32Array | null = null) {}

  /** Ask threads `tids` (null: every worker of the process) to flush; false when the inspector cannot reach them. */
  flush(tids: number[] | null, why: FlushWhy): boolean {
    if (this.failed) return false;
    try {
      return isMainThread ? this.fromMain(tids, why) : this.viaMain(tids, why);
    } catch {
      this.failed = true; // no inspector in this Node (built without it, or the program disabled it)
      return false;
    }
  }

  /** Close the sessions (this thread's last flush). */
  close(): void {
    for (const s of [this.session, this.toMain]) {
      try {
        s?.disconnect();
      } catch {
        // already gone
      }
    }
    this.session = this.toMain = null;
    this.targets.clear();
  }

  private fromMain(tids: number[] | null, why: FlushWhy): boolean {
    // A worker started since the last request may not be attached yet: attach afresh once.
    if (!this.session || tids === null || tids.some((t) => !this.targets.has(t))) {
      if (!this.attach()) return false;
    }
    const s = this.session!;
    const message = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: flushExpression(why), silent: true } });
    let reached = 0;
    for (const [tid, sessionId] of this.targets) {
      if (tids !== null && !tids.includes(tid)) continue;
      s.post('NodeWorker.sendMessageToWorker', { sessionId, message }, () => {});
      reached++;
    }
    return tids === null || reached === tids.length;
  }

  /**
   * (Re)attach the main thread's NodeWorker session to every live worker; false, attaching
   * nothing, while a worker is shutting down. NodeWorker.enable connects to each worker, and
   * one whose shutdown has begun (terminate(), its event loop ended, process.exit) crashes the
   * process with SIGSEGV in MainThreadHandle::Connect (Node 20/22). The caller falls back to
   * the request word and the BroadcastChannel, which reach every thread but one computing.
   */
  private attach(): boolean {
    const ctl = this.pctl;
    if (ctl) N.store(ctl, PCTL_ATTACHING, 1);
    try {
      if (this.childExiting()) return false;
      if (this.session) {
        this.session.post('NodeWorker.disable');
        this.targets.clear();
        this.session.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
      } else {
        this.session = this.mainSession();
      }
      return true;
    } finally {
      if (ctl) {
        N.store(ctl, PCTL_ATTACHING, 0);
        N.notify(ctl, PCTL_ATTACHING);
      }
    }
  }

  /** A new NodeWorker session of the main thread, every live worker attached. */
  private mainSession(): inspector.Session {
    const s = new inspector.Session();
    s.connect();
    s.on('NodeWorker.attachedToWorker', (m: any) => {
      const tid = WORKER_TITLE.exec(String(m?.params?.workerInfo?.title ?? ''));
      if (tid) this.targets.set(Number(tid[1]), String(m.params.sessionId));
    });
    s.on('NodeWorker.detachedFromWorker', (m: any) => {
      for (const [tid, id] of this.targets) if (id === m?.params?.sessionId) this.targets.delete(tid);
    });
    // Same-thread sessions answer synchronously: every live worker is attached when post returns.
    s.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    return s;
  }

  /** From a worker: the main thread (reached by interrupt too) forwards the request. */
  private viaMain(tids: number[] | null, why: FlushWhy): boolean {
    if (tids === null) return false;
    if (!this.toMain) {
      const s = new inspector.Session();
      (s as any).connectToMainThread();
      this.toMain = s;
    }
    const expression = `globalThis.__pp?.r?.(${JSON.stringify(tids)}, ${JSON.stringify(why)})`;
    this.toMain.post('Runtime.evaluate', { expression, silent: true }, () => {});
    return true;
  }
}
