/** Parses JS/TS source with @babel/parser in error-recovery mode; never throws. */
import { parse, type ParserPlugin } from '@babel/parser';
import type { Node } from './ast';

/** The parsed file: the Program node (null when the source could not be parsed at all) and its comments. */
export interface ParsedFile {
  program: Node | null;
  comments: Node[];
  /** Parse errors babel recovered from (kept for diagnostics of the tool itself, not reported). */
  errorCount: number;
}

/** Babel plugins for a file name: TypeScript for .ts/.mts/.cts/.tsx, JSX for .jsx/.tsx, none for plain JS. */
export function pluginsFor(fileName: string): ParserPlugin[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tsx')) return ['typescript', 'jsx'];
  if (/\.[mc]?ts$/.test(lower)) return ['typescript'];
  if (lower.endsWith('.jsx')) return ['jsx'];
  return [];
}

/** Parses `source`; on an unrecoverable syntax error returns `program: null` instead of throwing. */
export function parseSource(source: string, fileName: string): ParsedFile {
  try {
    const file = parse(source, {
      sourceType: 'unambiguous',
      errorRecovery: true,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
      allowImportExportEverywhere: true,
      allowNewTargetOutsideFunction: true,
      allowSuperOutsideMethod: true,
      allowUndeclaredExports: true,
      attachComment: false,
      plugins: pluginsFor(fileName),
    }) as unknown as Node;
    const errors = (file.errors as unknown[] | undefined) ?? [];
    return { program: file.program as Node, comments: (file.comments as Node[] | undefined) ?? [], errorCount: errors.length };
  } catch {
    return { program: null, comments: [], errorCount: 1 };
  }
}
