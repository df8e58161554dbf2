/** Which files the agent transforms: user code, not node_modules (unless asked), never itself. */
import { basename, dirname } from 'node:path';
import type { AgentOptions } from '../protocol/events';

const AGENT_FILES = new Set(['agent.js', 'agent-main.js', 'agent-hooks.mjs', 'agent-ts.js']);

/** True when `path` (absolute) is user code the transform should instrument. */
export function shouldInstrument(path: string, options: AgentOptions, agentDir: string): boolean {
  if (!path || path.startsWith('node:')) return false;
  if (!options.instrumentDeps && /[\\/]node_modules[\\/]/.test(path)) return false;
  if (dirname(path) === agentDir && AGENT_FILES.has(basename(path))) return false;
  // Node's own wrappers for code strings ("[eval]-wrapper", "[worker eval]-wrapper").
  if (basename(path).startsWith('[')) return false;
  return /\.(c|m)?(j|t)sx?$/.test(path) || !/\.[a-z0-9]+$/i.test(basename(path));
}

/** True for TypeScript sources that need sucrase first. */
export function isTypeScript(path: string): boolean {
  return /\.(c|m)?tsx?$/.test(path);
}
