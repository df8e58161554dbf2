/**
 * The one place the host reaches the core. `profileProgram` runs the core's entry point in a
 * worker thread (out/profileWorker.js) so analysis never blocks the extension host; the
 * scaling lab is the core's, handed the same profileProgram.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ScalingResult } from '../protocol/scaling';
import { UserError, type ProfileOptions, type ProfileResult } from '../core/api';
import { profileProgram as profileInThisThread } from '../core/index';
import { runScaling as coreRunScaling, type ScalingOptions } from '../core/scaling/index';
import type { ProfileWorkerCommand, ProfileWorkerMessage } from './profileWorker';

export { defaultWorkerCounts } from '../core/scaling/index';
export type { ScalingOptions };
export { UserError };
export type { ProfileOptions, ProfileResult };

/** out/profileWorker.js beside this bundle (out/extension.js). */
const workerFile = join(__dirname, 'profileWorker.js');

/** The core's profileProgram, run in a worker thread when the worker bundle exists. */
export function profileProgram(opts: ProfileOptions): Promise<ProfileResult> {
  if (!existsSync(workerFile)) return profileInThisThread(opts);
  const { signal, onStdout, onStderr, onProgress, ...data } = opts;
  return new Promise<ProfileResult>((resolve, reject) => {
    // Settings values are VS Code proxies, which structured clone rejects: send plain JSON.
    const worker = new Worker(workerFile, { workerData: JSON.parse(JSON.stringify(data)) as typeof data });
    const cancel = () => worker.postMessage({ type: 'cancel' } satisfies ProfileWorkerCommand);
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', cancel);
      f();
    };
    worker.on('message', (m: ProfileWorkerMessage) => {
      switch (m.type) {
        case 'stdout':
          onStdout?.(Buffer.from(m.chunk));
          return;
        case 'stderr':
          onStderr?.(Buffer.from(m.chunk));
          return;
        case 'progress':
          onProgress?.(m.message);
          return;
        case 'done':
          finish(() => resolve(m.result));
          return;
        case 'error':
          finish(() => {
            const e = m.userError ? new UserError(m.message) : new Error(m.message);
            if (m.stack) e.stack = m.stack;
            reject(e);
          });
          return;
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the profiling worker stopped (exit code ${code}) before it reported`))));
  });
}

/** The core's scaling lab, profiling with the same profileProgram as "Profile in Parallel". */
export function runScaling(opts: ScalingOptions): Promise<ScalingResult> {
  return coreRunScaling({ profileProgram, ...opts });
}
