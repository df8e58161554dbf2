/**
 * The agent proper (out/agent-main.js), loaded by the small preload out/agent.js once it knows
 * this thread is to be profiled.
 */
import * as wt from 'node:worker_threads';
import { AGENT_OPTIONS_ENV, type AgentOptions } from '../protocol/events';
import { startAgent } from './agent';

/** Parse the options and start profiling this thread; `agentFile` is out/agent.js. */
export function main(raw: string, agentFile: string): void {
  let options: AgentOptions;
  try {
    options = JSON.parse(raw);
  } catch {
    process.stderr.write(`parprof: ignoring malformed ${AGENT_OPTIONS_ENV}\n`);
    return;
  }
  try {
    startAgent(options, raw, agentFile);
  } catch (e) {
    process.stderr.write(`parprof: agent failed to start in thread ${wt.threadId}: ${e instanceof Error ? e.stack : String(e)}\n`);
  }
}

