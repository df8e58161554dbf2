/**
 * Every way a thread can end, each leading to its last flush: normal exit, process.exit, an
 * uncaught exception (Node's own output and exit code kept), SIGINT/SIGTERM (flush, then the
 * signal's default action so the runner sees it).
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
  process.on('exit', (code) => {
    // Workers still running when the main thread exits (process.exit, unref'd workers) die
    // without their own exit handlers: ask them for their last flush first.
    if (isMain && !st.finished) flushOthers('exit');
    st.finish(exitReason, typeof code === 'number' ? code : null);
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
