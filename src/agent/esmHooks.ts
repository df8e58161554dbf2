/**
 * ES module loader hooks (registered by the preload with `module.register`, run in Node's
 * hooks thread): transform user `file:` modules; TypeScript goes through sucrase first and
 * stays ESM (`.cts` is left to the CommonJS require hook).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AgentOptions } from '../protocol/events';
import { dataModuleName } from './codeNames';
import { isTypeScript, shouldInstrument } from './instrumentable';
import { transformSource } from './transform/index';
import { loadStripTypes } from './tsLoader';

/** What the preload hands to `initialize` through `module.register(..., { data })`. */
export interface HooksData {
  options: AgentOptions;
  agentDir: string;
}

let data: HooksData | null = null;

/** Loader hook: receives the options. */
export async function initialize(d: HooksData): Promise<void> {
  data = d;
}

type LoadResult = { format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean };
type NextLoad = (url: string, context?: unknown) => Promise<LoadResult>;

/** Loader hook: transform the source of user modules. */
export async function load(url: string, context: { format?: string | null }, nextLoad: NextLoad): Promise<LoadResult> {
  if (data && url.startsWith('data:')) {
    // Inline modules (`new Worker(new URL('data:text/javascript,…'))`, `import('data:…')`) are
    // the program's own code.
    const result = await nextLoad(url, context);
    if (result.format !== 'module' || result.source == null) return result;
    const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
    const out = transformSource({ source, file: dataModuleName(url), url, isModule: true, options: data.options });
    return out.code === null ? result : { ...result, source: out.code };
  }
  if (!data || !url.startsWith('file:')) return nextLoad(url, context);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return nextLoad(url, context);
  }
  if (!shouldInstrument(path, data.options, data.agentDir)) return nextLoad(url, context);
  if (isTypeScript(path)) {
    // .cts: let the CommonJS loader (and its require hook) handle it.
    if (/\.cts$/.test(path)) return { format: 'commonjs', shortCircuit: true };
    const js = loadStripTypes(data.agentDir)(readFileSync(path, 'utf8'), path, false);
    const out = transformSource({ source: js, file: path, url, isModule: true, options: data.options });
    return { format: 'module', source: out.code ?? js, shortCircuit: true };
  }
  const result = await nextLoad(url, context);
  if (result.format !== 'module' || result.source == null) return result;
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
  const out = transformSource({ source, file: path, url, isModule: true, options: data.options });
  return out.code === null ? result : { ...result, source: out.code };
}
