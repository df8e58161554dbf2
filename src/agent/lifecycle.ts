/**
 * Every way a thread can end, each leading to its last flush: normal exit, process.exit, an
 * uncaught exception (Node's own output and exit code kept), SIGINT/SIGTERM (flush, then the
 * signal's default action so the runner sees it). The flush at exit runs after the program's
 * own 'exit' listeners, so what they do is recorded too.
 */
import type { ExitRecord } from '../protocol/events';
import type { AgentState } from './state';

/** A printable form of anything thrown. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  try {
    return String(e);
  } catch {
    return 'non-printable error';
  }
}

/** Install the exit paths; `flushOthers` asks the process's other threads for their last flush (main thread). */
export function installExitPaths(st: AgentState, isMain: boolean, flushOthers: (why: 'signal' | 'exit') => void): void {
  let exitReason: ExitRecord['reason'] = 'exit';
  const origExit = process.exit;
  process.exit = function exit(this: unknown, ...args: any[]) {
    exitReason = 'process.exit';
    // Pass arguments through as given: Node treats exit() and exit(undefined) differently.
    return (origExit as any).apply(process, args);
  } as typeof process.exit;
  const atExit = (code: unknown): void => {
    if (st.finished) return;
    // Workers still running when the main thread exits (process.exit, unref'd workers) die
    // without their own exit handlers: ask them for their last flush first.
    if (isMain) flushOthers('exit');
    st.finish(exitReason, typeof code === 'number' ? code : null);
  };
  // Node emits 'exit' through process.emit (process.exit and the natural end alike): the last
  // flush runs once every listener has returned, even listeners added after ours. A listener
  // that calls process.exit() again makes Node exit at once through process.reallyExit.
  let emitting = false;
  const origEmit = process.emit;
  process.emit = function emit(this: unknown, event: string | symbol, ...args: any[]) {
    if (event !== 'exit' || emitting || st.finished) return (origEmit as any).call(this, event, ...args);
    emitting = true;
    try {
      return (origEmit as any).call(this, event, ...args);
    } finally {
      atExit(args[0] ?? process.exitCode);
    }
  } as typeof process.emit;
  const origReallyExit = (process as any).reallyExit;
  if (typeof origReallyExit === 'function') {
    (process as any).reallyExit = function reallyExit(this: unknown, ...args: any[]) {
      atExit(args[0]);
      return origReallyExit.apply(this, args);
    };
  }
  // In case the program replaced process.emit without calling ours.
  process.on('exit', (code) => {
    if (!emitting) atExit(code);
  });
  process.on('uncaughtExceptionMonitor', (err) => {
    if (process.listenerCount('uncaughtException') > 0) {
      st.warn(`uncaught exception handled by the program: ${errorText(err).split('\n')[0]}`);
      return;
    }
    if (isMain && !st.finished) flushOthers('exit');
    st.finish('uncaught', 1, errorText(err));
  });
  if (!isMain) return; // signals reach the main thread only
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) {
        st.flushAll(false); // the program handles the signal itself and may carry on
        return;
      }
      flushOthers('signal');
      st.finish('signal', null);
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
