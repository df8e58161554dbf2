/**
 * Runs the core's profileProgram in a worker thread of the extension host, so analysing a
 * large run never freezes the editor (the host's thread only relays messages). Plain Node:
 * no `vscode` here. Protocol: workerData = ProfileOptions without functions; the parent may
 * post {type:'cancel'}; this posts stdout/stderr/progress chunks, then done or error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { profileProgram } from '../core/index';
import { UserError, type ProfileOptions, type ProfileResult } from '../core/api';

/** Messages from the worker to the extension host. */
export type ProfileWorkerMessage =
  | { type: 'stdout' | 'stderr'; chunk: Uint8Array }
  | { type: 'progress'; message: string }
  | { type: 'done'; result: ProfileResult }
  | { type: 'error'; message: string; userError: boolean; stack: string | null };

/** Messages from the extension host to the worker. */
export type ProfileWorkerCommand = { type: 'cancel' };

if (parentPort) {
  const port = parentPort;
  const abort = new AbortController();
  port.on('message', (m: ProfileWorkerCommand) => {
    if (m?.type === 'cancel') abort.abort();
  });
  const send = (m: ProfileWorkerMessage) => port.postMessage(m);
  const opts = workerData as ProfileOptions;
  profileProgram({
    ...opts,
    signal: abort.signal,
    onStdout: (chunk) => send({ type: 'stdout', chunk }),
    onStderr: (chunk) => send({ type: 'stderr', chunk }),
    onProgress: (message) => send({ type: 'progress', message }),
  }).then(
    (result) => {
      send({ type: 'done', result });
      port.close();
    },
    (e: Error) => {
      send({ type: 'error', message: e.message, userError: e instanceof UserError, stack: e.stack ?? null });
      port.close();
    },
  );
}
