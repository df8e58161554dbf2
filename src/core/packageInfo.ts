/** Where this package is installed and which version it is (for the runner, the analysis and the exports). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** This package's root (holds package.json and out/), found from this file's location. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'parallel-profiler') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return resolve(__dirname, '..', '..');
}

/** This tool's version (esbuild defines PARPROF_VERSION; tests run from source). */
export function toolVersion(): string {
  return typeof PARPROF_VERSION === 'string' ? PARPROF_VERSION : '0.1.0';
}
