/**
 * Loads the TypeScript stripper (out/agent-ts.js, sucrase: ~0.6 MB) only when a .ts file is
 * met, so every thread does not pay for parsing it at start-up.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { stripTypes as StripTypes } from './typescript';

let strip: typeof StripTypes | null = null;

/** sucrase-based type stripping from the bundle next to the agent. */
export function loadStripTypes(agentDir: string): typeof StripTypes {
  if (!strip) {
    const file = join(agentDir, 'agent-ts.js');
    strip = (createRequire(file)(file) as { stripTypes: typeof StripTypes }).stripTypes;
  }
  return strip;
}
