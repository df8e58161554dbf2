/**
 * The shared-memory part of the agent in one thread: buffer identity, the vector clock and
 * its edges (spawn, join, messages, Atomics), element-access recording, the Atomics log and
 * the deadlock watchdog. The base runtime calls the AgentExtension hooks; instrumented code
 * calls the methods on `__ppM` (moduleProto).
 */
import { SITE_FID_SCALE } from '../../protocol/events';
import type { AgentContext, AgentExtension } from '../extension';
import { accessMethods, flushSegments, initAccess, segmentSink } from './access';
import { AtomicsTracker, makeAtomicsMethod } from './atomics';
import { BufferRegistry } from './buffers';
import { VectorClock } from './clock';
import { Control, MAXT, S_ASYNC, S_IDLE, S_NHOLD, S_STATE, S_TID, ST_EXITED, ST_RUNNING } from './control';
import { internalBuffers, nativeAtomics } from './native';
import { Watchdog } from './watchdog';

/** What a parent hands its new worker (through the base's environment data). */
interface SpawnData {
  ctl: SharedArrayBuffer;
  vc: number[];
  ids: string[];
}

/** Create the shared-memory extension for this thread, or null when races, locks and the watchdog are all off. */
export function createSharedExtension(ctx: AgentContext): AgentExtension | null {
  const o = ctx.options;
  const watch = o.deadlockTimeoutMs > 0;
  if (!o.races && !o.locks && !watch) return null;
  const registry = new BufferRegistry(ctx);
  let ctl: Control | null = null;
  let clock = new VectorClock(null, segmentSink);
  let tracker: AtomicsTracker | null = null;
  let watchdog: Watchdog | null = null;
  let self = -1;

  const flushShared = (final: boolean): void => {
    flushSegments();
    tracker?.flush();
    if (final && ctl && self >= 0 && self < MAXT) Watchdog.markExited(ctl, self);
  };

  /** The clock slot of a child thread of this process (-1 when none holds it). */
  const childSlot = (childTid: number): number => {
    if (!ctl) return -1;
    for (let k = 1, n = ctl.used(); k < n; k++) if (ctl.i32[ctl.slot(k, S_TID)] === childTid && k !== self) return k;
    return -1;
  };

  const ext: AgentExtension = {
    moduleProto: { ...accessMethods, A: makeAtomicsMethod(() => tracker) },
    // hc: hoisted-loop caches (access.ts), aw: Atomics wrappers (atomics.ts), q: write token, t: optional-chain temporary.
    moduleFields: () => ({ hc: [], aw: [], q: 0, t: undefined }),

    // A message carries the sender's sparse clock, or [clock, buffer ids] when it holds shared buffers.
    beforeSend(value: unknown): unknown {
      const vc = o.races ? clock.sparse() : [];
      const ids = registry.idsOf(value);
      clock.tick();
      return ids.length === 0 ? vc : [vc, ids];
    },

    afterReceive(meta: unknown, value: unknown): void {
      const withIds = Array.isArray(meta) && Array.isArray(meta[0]);
      registry.adopt(value, withIds ? meta[1] : undefined);
      if (o.races) clock.joinSparse(withIds ? meta[0] : meta);
    },

    beforeSpawn(workerData: unknown): unknown {
      if (!ctl) return undefined;
      const data: SpawnData = { ctl: ctl.sab, vc: o.races ? clock.sparse() : [], ids: registry.idsOf(workerData) };
      clock.tick();
      return data;
    },

    afterSpawn(): void {
      // The child takes its slot itself. (The base's own control buffers use nativeAtomics, so
      // the global wait/notify patches never see them.)
    },

    threadStart(spawnData: unknown, workerData: unknown): void {
      const sd = (spawnData ?? null) as Partial<SpawnData> | null;
      ctl = ctx.isMain ? Control.create() : Control.from(sd?.ctl);
      if (ctl) internalBuffers.add(ctl.sab);
      if (ctl) {
        const inherited = Array.isArray(sd?.vc) ? sd.vc : [];
        self = ctl.takeSlot((slot) => {
          for (let k = 0; k + 1 < inherited.length; k += 2) if (inherited[k] === slot) return Number(inherited[k + 1]);
          return 0;
        });
        if (self >= MAXT) {
          ctx.write({ k: 'warn', msg: `thread ${ctx.tid} is thread number ${self + 1} of this process; race detection and the watchdog cover the first ${MAXT}` });
          ctl = null;
        }
      } else if (!ctx.isMain) {
        ctx.write({ k: 'warn', msg: `thread ${ctx.tid} started without its parent's agent data; no race detection in it` });
      }
      clock = new VectorClock(ctl, segmentSink);
      if (ctl) {
        for (const f of [S_NHOLD, S_IDLE, S_ASYNC]) ctl.i32[ctl.slot(self, f)] = 0; // a reused slot's old state
        ctl.i32[ctl.slot(self, S_TID)] = ctx.tid;
        Atomics.store(ctl.i32, ctl.slot(self, S_STATE), ST_RUNNING);
        clock.start(self, sd?.vc);
        ctx.write({ k: 'tidx', idx: self, tid: ctx.tid });
      }
      registry.adopt(workerData, sd?.ids);
      if (ctl && watch) {
        watchdog = new Watchdog(ctx, ctl, self, () => {
          flushShared(false);
          ctx.flush();
        });
        watchdog.startTimer();
      }
      tracker = new AtomicsTracker(ctx, registry, clock, ctl, watchdog, o.races, o.locks);
      tracker.patchGlobal();
      tracker.patchWebLocks();
      initAccess(ctx, registry, clock, o.races);
    },

    onChildError(childTid: number): void {
      const k = childSlot(childTid);
      // Only a child that has finished (its last flush marks it): an 'error' the program emits
      // on a running worker itself orders nothing. The slot stays the child's until its 'exit'.
      if (ctl && o.races && k > 0 && nativeAtomics.load(ctl.i32, ctl.slot(k, S_STATE)) === ST_EXITED) clock.joinRow(ctl.i32, ctl.pub(k, 0));
    },

    onJoin(childTid: number, observed: boolean): void {
      const k = childSlot(childTid);
      if (!ctl || k < 0) return;
      if (o.races && observed) clock.joinRow(ctl.i32, ctl.pub(k, 0));
      Watchdog.markExited(ctl, k);
      ctl.i32[ctl.slot(k, S_TID)] = -1; // a second 'exit' must not free it twice
      ctl.freeSlot(k); // joined: a new thread may take it
    },

    flush(final: boolean): void {
      flushShared(final);
    },
  };
  return ext;
}

/** Site id helper for tests. */
export const siteOf = (fid: number, local: number): number => fid * SITE_FID_SCALE + local;
