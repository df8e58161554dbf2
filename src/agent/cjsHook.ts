/**
 * CommonJS modules are transformed where Node compiles them (`Module.prototype._compile`),
 * in every thread; `.ts/.cts/.mts` files required (or run as the entry) go through sucrase
 * first and come out as CommonJS.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import { pathToFileURL } from 'node:url';
import type { AgentOptions } from '../protocol/events';
import { isTypeScript, shouldInstrument } from './instrumentable';
import { transformSource } from './transform/index';
import { loadStripTypes } from './tsLoader';

/** Install the CommonJS hooks; `warn` receives transform warnings, `onDynamicImport` hears of code that contains `import(`. */
export function installCjsHook(options: AgentOptions, agentDir: string, warn: (msg: string) => void, onDynamicImport: () => void): void {
  const proto = (Module as any).prototype;
  const origCompile: (content: string, filename: string, ...rest: unknown[]) => unknown = proto._compile;
  proto._compile = function compile(this: unknown, content: string, filename: string, ...rest: unknown[]) {
    // This module may import() an ES module: the ESM hooks must be in place before it runs.
    if (typeof content === 'string' && content.includes('import(')) onDynamicImport();
    if (typeof content === 'string' && typeof filename === 'string' && shouldInstrument(filename, options, agentDir)) {
      const out = transformSource({ source: content, file: filename, url: pathToFileURL(filename).href, isModule: false, options });
      if (out.warning) warn(out.warning);
      if (out.code !== null) content = out.code;
    }
    return origCompile.call(this, content, filename, ...rest);
  };
  const extensions = (Module as any)._extensions as Record<string, (m: any, filename: string) => void>;
  for (const ext of ['.ts', '.cts', '.mts', '.tsx']) {
    if (extensions[ext]) continue;
    extensions[ext] = (m: any, filename: string) => {
      const source = fs.readFileSync(filename, 'utf8');
      m._compile(isTypeScript(filename) ? loadStripTypes(agentDir)(source, filename, true) : source, filename);
    };
  }
}
