/**
 * The source transform pipeline: parse with acorn, let the passes add edits (call counters,
 * shared-memory accesses), apply the edits in one pass, and add the module's head and tail
 * that register it with the thread's runtime (its functions, sites and column table). No user
 * line moves; any failure leaves the module untouched so the user's program never breaks
 * because of us. untransform.ts is the exact inverse (tests round-trip whole modules).
 */
import { parse, type Program } from 'acorn';
import type { AgentOptions, SiteKind } from '../../protocol/events';
import { countAtOrBelow, Edits } from './edits';
import { findFunctions, instrumentFunctions } from './functions';
import { instrumentSharedAccess } from './sharedAccess';
import type { TransformContext } from './types';

/** The module runtime variable every pass emits code against. */
export const RUNTIME_VAR = '__ppM';
/** The hoisted function, after the last line of a script, that registers it and returns its runtime. */
const HEADER_FN = '__ppH';

/** What to transform and how it is named. */
export interface TransformInput {
  source: string;
  /** Absolute path or "[worker eval <hash of the code>]". */
  file: string;
  /** What V8 reports as callFrame.url for this code. */
  url: string;
  isModule: boolean;
  options: AgentOptions;
  /**
   * The source is one expression (a script that is a single expression statement, as code
   * compiled at run time often is): the output is `(function __ppH(){var __ppM=__ppH();return(` …
   * `)` … `\n;function __ppH(){…}})()`, which evaluates to the expression's value and keeps the
   * module runtime in a scope of its own. A script's top-level `var __ppM` would be a global,
   * shared by every such script of the thread. Code that is not one expression statement
   * comes out null.
   */
  expression?: boolean;
}

/** Transformed code, or null when nothing was (or could be) instrumented; warning says why a pass was skipped. */
export interface TransformOutput {
  code: string | null;
  warning?: string;
  /** With `expression`: the code was not one expression statement (left as it is). */
  notExpression?: boolean;
}

/** Most import assertions one module is parsed again for. */
const MAX_ASSERTIONS = 64;

/**
 * Parse a module. Node 20 still takes the deprecated import assertions (`import j from './j.json'
 * assert { type: 'json' }`), acorn only their successor `with`: where acorn stops at such an
 * `assert` it is parsed as `with  ` (same length, so every position holds) and the parse tried
 * again; the edits still apply to the source as written.
 */
function parseModule(source: string, extra: { allowReturnOutsideFunction?: boolean }): Program {
  const options = { ecmaVersion: 'latest' as const, locations: true, allowHashBang: true, sourceType: 'module' as const, allowAwaitOutsideFunction: true, ...extra };
  let text = source;
  for (let k = 0; ; k++) {
    try {
      return parse(text, options);
    } catch (e) {
      const pos = (e as { pos?: unknown }).pos;
      if (k === MAX_ASSERTIONS || typeof pos !== 'number' || !/^assert\b/.test(text.slice(pos, pos + 7)) || !/['"]\s*$/.test(text.slice(0, pos))) throw e;
      text = text.slice(0, pos) + 'with  ' + text.slice(pos + 6);
    }
  }
}

function parseProgram(source: string, isModule: boolean): Program {
  if (isModule) return parseModule(source, {});
  try {
    return parse(source, { ecmaVersion: 'latest', locations: true, allowHashBang: true, sourceType: 'script', allowReturnOutsideFunction: true });
  } catch (e) {
    try {
      return parseModule(source, { allowReturnOutsideFunction: true });
    } catch {
      throw e;
    }
  }
}

/** Offsets of the first character of each line (index 0 = line 1). */
function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) {
    const ch = source.charCodeAt(i);
    if (ch === 10) starts.push(i + 1);
    else if (ch === 13 && source.charCodeAt(i + 1) !== 10) starts.push(i + 1);
    else if (ch === 0x2028 || ch === 0x2029) starts.push(i + 1);
  }
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  return countAtOrBelow(starts, offset); // 1-based
}

/** Node types whose `body`/`consequent` is a statement list (where automatic semicolon insertion applies). */
const LIST_KEYS: Record<string, string> = { Program: 'body', BlockStatement: 'body', StaticBlock: 'body', SwitchCase: 'consequent' };

/**
 * Which of the sorted offsets `candidates` begin an expression statement of a statement list:
 * one descent that only enters nodes spanning a candidate.
 */
function statementStarts(ast: Program, candidates: number[]): Set<number> {
  const found = new Set<number>();
  if (candidates.length === 0) return found;
  const spans = (n: any): boolean => {
    const k = countAtOrBelow(candidates, n.end);
    return k > 0 && candidates[k - 1]! >= n.start;
  };
  const isCandidate = (at: number): boolean => candidates[countAtOrBelow(candidates, at) - 1] === at;
  const visit = (n: any): void => {
    if (!n || typeof n.type !== 'string' || !spans(n)) return;
    const listKey = LIST_KEYS[n.type];
    for (const key of Object.keys(n)) {
      if (key === 'loc') continue;
      const v = n[key];
      if (Array.isArray(v)) {
        for (const x of v) {
          if (key === listKey && x?.type === 'ExpressionStatement' && isCandidate(x.start)) found.add(x.start);
          visit(x);
        }
      } else if (v && typeof v.type === 'string') visit(v);
    }
  };
  visit(ast);
  return found;
}

/**
 * Where the module header goes: after a directive prologue; else at the start (after a
 * hashbang line), so that it usually sits in front of comments, not code. `atEnd` for ES
 * modules without static imports (the import of the runtime can go after the last line).
 */
function headerPlacement(ast: Program, source: string, isModule: boolean): { at: number; prefix: string; atEnd: boolean } {
  let at = -1;
  for (const stmt of ast.body as any[]) {
    if (stmt.type !== 'ExpressionStatement' || typeof stmt.directive !== 'string') break;
    at = stmt.end;
  }
  const atEnd = isModule && !(ast.body as any[]).some((s) => s.type === 'ImportDeclaration' || (s.source && (s.type === 'ExportNamedDeclaration' || s.type === 'ExportAllDeclaration')));
  if (at >= 0) return { at, prefix: ';', atEnd };
  if (!source.startsWith('#!')) return { at: 0, prefix: '', atEnd };
  const eol = source.search(/[\n\r\u2028\u2029]/);
  // A file that is only a hashbang line has no statement to instrument.
  return { at: eol < 0 ? source.length : eol + (source.startsWith('\r\n', eol) ? 2 : 1), prefix: '', atEnd };
}

function build(input: TransformInput, ast: Program, withShared: boolean): string | null {
  const { source, options } = input;
  const starts = lineStarts(source);
  const edits = new Edits();
  const sites: number[] = [];
  const ctx: TransformContext = {
    ast,
    source,
    edits,
    addSite(line: number, column: number, kind: SiteKind): number {
      sites.push(line, column + 1, kind);
      return sites.length / 3 - 1;
    },
    addSiteAt(node, kind) {
      return ctx.addSite(node.loc!.start.line, node.loc!.start.column, kind);
    },
    runtimeVar: RUNTIME_VAR,
    file: input.file,
    url: input.url,
    isModule: input.isModule,
    options,
  };
  const fns = findFunctions(ctx);
  const callSlots = options.counts ? instrumentFunctions(ctx, fns) : [];
  if (withShared) instrumentSharedAccess(ctx);
  if (edits.size === 0 && sites.length === 0) return null;
  // Closes the `return(` of the head (a ';' or a line comment may follow the expression).
  if (input.expression) edits.insert((ast.body[0] as any).expression.end, ')', 1000);

  const applied = edits.apply(source, statementStarts(ast, edits.continuationCandidates()));
  // Scripts and CommonJS start with a short `var __ppM=__ppH();` and declare the (hoisted)
  // __ppH, which holds the module's tables, after the last line. ES modules import the runtime
  // from a data: module; imports are evaluated in the order they stand and before the body, so
  // the import goes after the last line when the module imports nothing else, else first of
  // all (functions called early through an import cycle must find it). Either way no user line
  // moves and an error excerpt of line 1 rarely shows the tables.
  const header = headerPlacement(ast, source, input.isModule);
  const headerLine = lineOf(starts, header.at);
  const genHeaderAt = applied.generatedOffset(header.at) - insertedBefore(applied, header.at);
  const names = JSON.stringify(fns.map((f) => f.name));
  const siteJson = JSON.stringify(sites);
  const url = JSON.stringify(input.url);
  // The runtime derives the file from a file: URL; other code (eval workers) names its file.
  const fileArg = input.url.startsWith('file:') ? (callSlots.length ? ',void 0' : '') : `,${JSON.stringify(input.file)}`;
  const slotArg = callSlots.length ? `,${JSON.stringify(callSlots)}` : '';
  /** The text at header.at and after the last line, given the length of the text at header.at. */
  const render = (headLength: number): { head: string; tail: string } => {
    const funcs: number[] = [];
    for (const f of fns) {
      const line = lineOf(starts, f.defStart);
      const v8Line = lineOf(starts, f.v8Pos);
      const lineStartGen = v8Line === 1 ? 0 : applied.generatedOffset(starts[v8Line - 1]! - 1) + 1;
      const gen = applied.generatedOffset(f.v8Pos);
      // The head goes in front of everything at header.at, so it shifts what follows on its line.
      const shift = v8Line === headerLine && gen >= genHeaderAt ? headLength : 0;
      funcs.push(line, f.defStart - starts[line - 1]! + 1, v8Line, gen - lineStartGen + 1 + shift);
    }
    const register = `globalThis.__pp.m(${url},${JSON.stringify(funcs)},${names},${siteJson}${fileArg}${slotArg})`;
    const cols = `globalThis.__pp.cols&&globalThis.__pp.cols(${url},${JSON.stringify(columnTable(applied.spans, starts, header.at, headLength))})`;
    // The wrapper takes the name of the table builder (which its body's own __ppH shadows), so
    // the report counts its time, spent registering, as the profiler's, as it does __ppH's.
    if (input.expression) return { head: `(function ${HEADER_FN}(){var ${RUNTIME_VAR}=${HEADER_FN}();return(`, tail: `\n;function ${HEADER_FN}(){var m=${register};${cols};return m}})()` };
    if (!input.isModule) return { head: `${header.prefix}var ${RUNTIME_VAR}=${HEADER_FN}();`, tail: `function ${HEADER_FN}(){var m=${register};${cols};return m}` };
    const imp = `import ${RUNTIME_VAR} from ${JSON.stringify('data:text/javascript,' + encodeURIComponent(`export default ${register};${cols}`))};`;
    return header.atEnd ? { head: '', tail: imp } : { head: header.prefix + imp, tail: '' };
  };
  // The head may hold tables that depend on its own length: settle it (two or three rounds).
  let out = render(input.isModule ? 0 : render(0).head.length);
  for (let k = 0; k < 8 && out.head.length !== 0; k++) {
    const next = render(out.head.length);
    const settled = next.head.length === out.head.length;
    out = next;
    if (settled) break;
  }
  const code = applied.code.slice(0, genHeaderAt) + out.head + applied.code.slice(genHeaderAt);
  if (input.expression) return code + out.tail;
  return out.tail ? code + tailSeparator(source, ast) + out.tail : code;
}

/**
 * What goes between the source and the tail: nothing after a final line break (the tail
 * fills the empty last line), a line break after a final line comment (a line after the
 * last: no user line moves; U+2029, which the untransform can tell from a user's own), else
 * ';' (the last statement may lack one).
 */
function tailSeparator(source: string, ast: Program): string {
  if (/[\n\r\u2028\u2029]$/.test(source)) return '';
  const last = ast.body[ast.body.length - 1];
  const after = source.slice(last ? last.end : 0);
  const lastLine = after.slice(Math.max(after.lastIndexOf('\n'), after.lastIndexOf('\r'), after.lastIndexOf('\u2028'), after.lastIndexOf('\u2029')) + 1);
  return /\/\/|<!--|-->/.test(lastLine) ? '\u2029' : ';';
}

/**
 * Where columns moved, per line: flat [line, edits, (column, removed, added) × edits, …],
 * 0-based columns of the original line; the runtime maps generated columns back with it.
 */
function columnTable(spans: number[], starts: number[], headerAt: number, headerLength: number): number[] {
  const out: number[] = [];
  let line = -1;
  let countAt = -1;
  const add = (pos: number, removed: number, added: number): void => {
    const l = lineOf(starts, pos);
    const col = pos - starts[l - 1]!;
    if (l !== line) {
      line = l;
      out.push(l, 0);
      countAt = out.length - 1;
    } else if (removed === 0 && out[out.length - 3] === col && out[out.length - 2] === 0) {
      out[out.length - 1]! += added; // insertions at one place: one entry
      return;
    }
    out.push(col, removed, added);
    out[countAt]!++;
  };
  let headerDone = headerLength === 0;
  for (let k = 0; k < spans.length; k += 3) {
    const pos = spans[k]!;
    if (!headerDone && pos >= headerAt) {
      add(headerAt, 0, headerLength);
      headerDone = true;
    }
    add(pos, spans[k + 1]!, spans[k + 2]!);
  }
  if (!headerDone) add(headerAt, 0, headerLength);
  return out;
}

/** Length of the insertions placed at exactly `offset` (they precede the original character there). */
function insertedBefore(applied: { generatedOffset(o: number): number }, offset: number): number {
  if (offset === 0) return applied.generatedOffset(0);
  return applied.generatedOffset(offset) - applied.generatedOffset(offset - 1) - 1;
}

/** True when a script is one expression statement (not a directive) and nothing else. */
function isOneExpression(ast: Program): boolean {
  const body = ast.body as any[];
  return ast.sourceType === 'script' && body.length === 1 && body[0].type === 'ExpressionStatement' && typeof body[0].directive !== 'string';
}

/** Transform one module's source; never throws. */
export function transformSource(input: TransformInput): TransformOutput {
  let ast: Program;
  try {
    ast = parseProgram(input.source, input.isModule);
  } catch (e) {
    // Node reports real syntax errors itself; this only says why the module has no counts.
    return { code: null, warning: `${input.file} runs uninstrumented: the profiler could not parse it (${e instanceof Error ? e.message : String(e)})` };
  }
  if (input.expression && (!isOneExpression(ast) || input.source.startsWith('#!'))) return { code: null, notExpression: true };
  const shared = input.options.races || input.options.locks;
  try {
    return { code: build(input, ast, shared) };
  } catch (e) {
    if (!shared) return { code: null, warning: `transform of ${input.file} failed: ${String(e)}` };
    try {
      return {
        code: build(input, ast, false),
        warning: `shared-memory instrumentation of ${input.file} failed (${String(e)}); counting calls only`,
      };
    } catch (e2) {
      return { code: null, warning: `transform of ${input.file} failed: ${String(e2)}` };
    }
  }
}
