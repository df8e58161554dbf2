/**
 * The preload (`node --require out/agent.js`): runs in the main thread and every worker.
 * Does nothing without PARPROF_AGENT_OPTIONS (or the options a parent put in environment
 * data) and nothing in Node's module-hooks thread.
 */
import * as wt from 'node:worker_threads';
import { AGENT_OPTIONS_ENV, type AgentOptions } from '../protocol/events';
import { startAgent } from './agent';
import { ENV_HOOKS, ENV_OPTIONS } from './state';

function main(): void {
  if ((globalThis as any).__pp) return; // preloaded twice
  if (!wt.isMainThread && wt.getEnvironmentData(ENV_HOOKS) === 1) return; // module hooks thread
  const raw = process.env[AGENT_OPTIONS_ENV] ?? (wt.getEnvironmentData(ENV_OPTIONS) as string | undefined);
  if (!raw) return;
  let options: AgentOptions;
  try {
    options = JSON.parse(raw);
  } catch {
    process.stderr.write(`parprof: ignoring malformed ${AGENT_OPTIONS_ENV}\n`);
    return;
  }
  try {
    startAgent(options, raw, __filename);
  } catch (e) {
    process.stderr.write(`parprof: agent failed to start in thread ${wt.threadId}: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
}

main();
