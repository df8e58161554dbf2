/**
 * The source transform pipeline: parse with acorn, let the passes add edits (call counters,
 * shared-memory accesses), prepend the module header that registers the module with the
 * thread's runtime, apply the edits in one pass. Lines never move; any failure leaves the
 * module untouched so the user's program never breaks because of us.
 */
import { parse, type Program } from 'acorn';
import type { AgentOptions, SiteKind } from '../../protocol/events';
import { countAtOrBelow, Edits } from './edits';
import { findFunctions, instrumentFunctions } from './functions';
import { instrumentSharedAccess } from './sharedAccess';
import type { TransformContext } from './types';

/** The module runtime variable every pass emits code against. */
export const RUNTIME_VAR = '__ppM';

/** What to transform and how it is named. */
export interface TransformInput {
  source: string;
  /** Absolute path or "[worker eval N]". */
  file: string;
  /** What V8 reports as callFrame.url for this code. */
  url: string;
  isModule: boolean;
  options: AgentOptions;
}

/** Transformed code, or null when nothing was (or could be) instrumented; warning says why a pass was skipped. */
export interface TransformOutput {
  code: string | null;
  warning?: string;
}

function parseProgram(source: string, isModule: boolean): Program {
  const base = { ecmaVersion: 'latest' as const, locations: true, allowHashBang: true };
  if (isModule) return parse(source, { ...base, sourceType: 'module', allowAwaitOutsideFunction: true });
  try {
    return parse(source, { ...base, sourceType: 'script', allowReturnOutsideFunction: true });
  } catch (e) {
    try {
      return parse(source, { ...base, sourceType: 'module', allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true });
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

/** Where the module header goes: after a directive prologue, else before the first statement. */
function headerOffset(ast: Program): { at: number; prefix: string } {
  let at = -1;
  for (const stmt of ast.body as any[]) {
    if (stmt.type !== 'ExpressionStatement' || typeof stmt.directive !== 'string') break;
    at = stmt.end;
  }
  if (at >= 0) return { at, prefix: ';' };
  return { at: ast.body[0]?.start ?? 0, prefix: '' };
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
  if (options.counts) instrumentFunctions(ctx, fns);
  if (withShared) instrumentSharedAccess(ctx);
  if (edits.size === 0 && sites.length === 0) return null;

  const applied = edits.apply(source, statementStarts(ast, edits.continuationCandidates()));
  const header = headerOffset(ast);
  const headerLine = lineOf(starts, header.at);
  const genHeaderAt = applied.generatedOffset(header.at) - 0;
  const funcs: number[] = [];
  const onHeaderLine: number[] = [];
  for (const f of fns) {
    const line = lineOf(starts, f.defStart);
    const v8Line = lineOf(starts, f.v8Pos);
    const lineStartGen = v8Line === 1 ? 0 : applied.generatedOffset(starts[v8Line - 1]! - 1) + 1;
    const gen = applied.generatedOffset(f.v8Pos);
    funcs.push(line, f.defStart - starts[line - 1]! + 1, v8Line, gen - lineStartGen + 1);
    // The header is inserted in front of everything at header.at, so it shifts what follows on its line.
    if (v8Line === headerLine && gen >= genHeaderAt - insertedBefore(applied, header.at)) onHeaderLine.push(funcs.length - 1);
  }
  const names = JSON.stringify(fns.map((f) => f.name));
  const siteJson = JSON.stringify(sites);
  const url = JSON.stringify(input.url);
  // The runtime derives the file from a file: URL; other code (eval workers) names its file.
  const fileArg = input.url.startsWith('file:') ? '' : `,${JSON.stringify(input.file)}`;
  const render = (shift: number): string => {
    const shifted = funcs.slice();
    for (const k of onHeaderLine) shifted[k]! += shift;
    const call = `globalThis.__pp.m(${url},${JSON.stringify(shifted)},${names},${siteJson}${fileArg})`;
    // ES modules import the runtime from a tiny module of their own: imports are evaluated
    // first, so functions called early through an import cycle already find it.
    if (input.isModule) return `import ${RUNTIME_VAR} from ${JSON.stringify('data:text/javascript,' + encodeURIComponent(`export default ${call}`))};`;
    return `${header.prefix}var ${RUNTIME_VAR}=${call};`;
  };
  let text = render(0);
  for (let k = 0; k < 8; k++) {
    const next = render(text.length);
    if (next.length === text.length) {
      text = next;
      break;
    }
    text = next;
  }
  const genAt = genHeaderAt - insertedBefore(applied, header.at);
  return applied.code.slice(0, genAt) + text + applied.code.slice(genAt);
}

/** Length of the insertions placed at exactly `offset` (they precede the original character there). */
function insertedBefore(applied: { generatedOffset(o: number): number }, offset: number): number {
  if (offset === 0) return applied.generatedOffset(0);
  return applied.generatedOffset(offset) - applied.generatedOffset(offset - 1) - 1;
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
