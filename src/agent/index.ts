/**
 * The preload (`node --require out/agent.js`): runs in the main thread, every worker and
 * Node's module-hooks thread. Kept tiny so threads that are not profiled (the hooks threads,
 * runs without PARPROF_AGENT_OPTIONS) pay almost nothing; the agent itself is agent-main.js.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as wt from 'node:worker_threads';
import { AGENT_OPTIONS_ENV } from '../protocol/events';
import { ENV_HOOKS, ENV_OPTIONS } from './state';

function preload(): void {
  if ((globalThis as any).__pp) return; // preloaded twice
  if (!wt.isMainThread && wt.getEnvironmentData(ENV_HOOKS) === 1) return; // module hooks thread
  const raw = process.env[AGENT_OPTIONS_ENV] ?? (wt.getEnvironmentData(ENV_OPTIONS) as string | undefined);
  if (!raw) return;
  const file = join(__dirname, 'agent-main.js');
  (createRequire(file)(file) as typeof import('./main')).main(raw, __filename);
}

preload();
