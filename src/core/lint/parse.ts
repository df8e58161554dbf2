/** Parses JS/TS source with @babel/parser in error-recovery mode; never throws. */
import { parse, type ParserPlugin } from '@babel/parser';
import type { Node } from './ast';

/** The parsed file: the Program node (null when the source could not be parsed at all) and its comments. */
export interface ParsedFile {
  program: Node | null;
  comments: Node[];
  /** Parse errors babel recovered from (kept for diagnostics of the tool itself, not reported). */
  errorCount: number;
  /** True when this is the second parse, of a JavaScript file with decorators (a strict parse without them fails). */
  retried?: boolean;
}

/** Babel plugins for a file name: TypeScript for .ts/.mts/.cts/.tsx, JSX for .jsx/.tsx, none for plain JS. */
export function pluginsFor(fileName: string): ParserPlugin[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tsx')) return ['typescript', 'jsx'];
  if (/\.[mc]?ts$/.test(lower)) return ['typescript'];
  if (lower.endsWith('.jsx')) return ['jsx'];
  return [];
}

/** The plugins the analyser parses with: TypeScript files also accept decorators (`@logged` on a method). */
export function analyserPlugins(fileName: string): ParserPlugin[] {
  const plugins = pluginsFor(fileName);
  return plugins.includes('typescript') ? [...plugins, 'decorators-legacy'] : plugins;
}

/**
 * Parses `source`; on an unrecoverable syntax error returns `program: null` instead of throwing.
 * A JavaScript file that only fails on decorators (Babel- or TypeScript-compiled projects) is parsed
 * again with them.
 */
export function parseSource(source: string, fileName: string): ParsedFile {
  const plugins = analyserPlugins(fileName);
  const first = parseWith(source, plugins);
  if (first.program || plugins.includes('decorators-legacy') || !source.includes('@')) return first;
  const again = parseWith(source, [...plugins, 'decorators-legacy']);
  return again.program ? { ...again, retried: true } : first;
}

/** Parser options for any script or module (fragments too); the analyser adds error recovery. */
export const PARSE_OPTIONS = {
  sourceType: 'unambiguous',
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
  allowImportExportEverywhere: true,
  allowNewTargetOutsideFunction: true,
  allowSuperOutsideMethod: true,
  allowUndeclaredExports: true,
  attachComment: false,
} as const;

function parseWith(source: string, plugins: ParserPlugin[]): ParsedFile {
  try {
    const file = parse(source, { ...PARSE_OPTIONS, errorRecovery: true, plugins }) as unknown as Node;
    const errors = (file.errors as unknown[] | undefined) ?? [];
    return { program: file.program as Node, comments: (file.comments as Node[] | undefined) ?? [], errorCount: errors.length };
  } catch {
    return { program: null, comments: [], errorCount: 1 };
  }
}
