/**
 * The inverse of the transform for one function's text: what `Function.prototype.toString`
 * gives for an instrumented function, with every inserted piece taken out again, so programs
 * that send functions as text (worker pools, `new Worker(\`(${fn})()\`, { eval: true })`) get
 * their own code. Works on the text alone (no per-module tables): each kind of insertion has
 * a shape the parse tree shows. Returns null when some `__ppM` is left (an unknown shape).
 */
import { parse } from 'acorn';
import { GLUE } from './edits';

const RT = '__ppM';
const HEAD_FN = '__ppH';

/** How a function's text can be parsed: as an expression, an object method, a class method (or constructor). */
const WRAPPERS: [string, string][] = [
  ['(', ')'],
  ['({', '})'],
  ['(class extends Object{', '})'],
];

/** `__ppM.<name>(…)` calls that wrap one original expression: the index of the argument kept. */
const KEEP_ARG: Record<string, number> = { r: 1, w: 1, rw: 1, wk: 1, wv: 1, A: 1, sab: 0, it: 0, io: 0, v: 0 };

/** One edit on the parsed text: [start, end) becomes `text`. */
type Cut = [number, number, string];

const isRt = (n: any, prop?: string): boolean =>
  n?.type === 'MemberExpression' && !n.computed && n.object.type === 'Identifier' && n.object.name === RT && n.property.type === 'Identifier' && (prop === undefined || n.property.name === prop);

/** `__ppM.c[i]++` / `__ppM.s[i]++` (a counter bump). */
const isBump = (n: any, counter: string): boolean =>
  n?.type === 'UpdateExpression' && n.argument.type === 'MemberExpression' && n.argument.computed && isRt(n.argument.object, counter);

/** `__ppM.c[i]++;` as a statement. */
const isCountStatement = (s: any): boolean => s?.type === 'ExpressionStatement' && isBump(s.expression, 'c');

/** `if(__ppM.d[i]++===0)__ppM.p[i]++;` (depth tracking). */
const isDepthEntry = (s: any): boolean =>
  s?.type === 'IfStatement' && s.test.type === 'BinaryExpression' && isBump(s.test.left, 'd') && s.consequent.type === 'ExpressionStatement' && isBump(s.consequent.expression, 'p');

/** `try{…}finally{__ppM.d[i]--}` (depth tracking). */
const isDepthTry = (s: any): boolean =>
  s?.type === 'TryStatement' && !s.handler && s.finalizer?.body.length === 1 && s.finalizer.body[0].type === 'ExpressionStatement' &&
  s.finalizer.body[0].expression.type === 'UpdateExpression' && s.finalizer.body[0].expression.argument.type === 'MemberExpression' &&
  isRt(s.finalizer.body[0].expression.argument.object, 'd');

const isLoopCall = (e: any): boolean => e?.type === 'CallExpression' && isRt(e.callee, 'lp');

/** The hoisted-loop block `{__ppM.g.on&&(__ppM.lp(…),…);for(…)…}`. */
const isLoopBlock = (b: any): boolean => {
  if (b.body.length !== 2 || b.body[1].type !== 'ForStatement' || b.body[0].type !== 'ExpressionStatement') return false;
  const e = b.body[0].expression;
  if (e.type !== 'LogicalExpression' || e.operator !== '&&' || e.left.type !== 'MemberExpression' || !isRt(e.left.object, 'g')) return false;
  return e.right.type === 'SequenceExpression' ? e.right.expressions.every(isLoopCall) : isLoopCall(e.right);
};

/** `var __ppM=__ppH();` (the head of a script). */
const isHead = (s: any): boolean =>
  s?.type === 'VariableDeclaration' && s.declarations.length === 1 && s.declarations[0].id.name === RT && s.declarations[0].init?.callee?.name === HEAD_FN;

/** `function __ppH(){…}` after a script's last line, or an ES module's `import __ppM from "data:…"`. */
const isTail = (s: any): boolean =>
  (s?.type === 'FunctionDeclaration' && s.id?.name === HEAD_FN) || (s?.type === 'ImportDeclaration' && s.specifiers.length === 1 && s.specifiers[0].local.name === RT);

/** True when statement k of `list` follows a directive prologue (an insertion there brought a ';' of its own). */
function afterDirective(list: any[], k: number): boolean {
  const prev = list[k - 1];
  return !!prev && (typeof prev.directive === 'string' || (prev.type === 'EmptyStatement' && typeof list[k - 2]?.directive === 'string'));
}

function statementList(list: any[], text: string, cuts: Cut[]): void {
  for (let k = 0; k < list.length; k++) {
    const s = list[k];
    const semi = text[s.start - 1] === ';' && afterDirective(list, k);
    if (isTail(s)) {
      // After the last line it follows ';' or U+2029 of its own (a file's last line break is kept).
      const own = semi || (k === list.length - 1 && s.start > 0 && (text[s.start - 1] === ';' || text[s.start - 1] === '\u2029'));
      cuts.push([own ? s.start - 1 : s.start, s.end, '']);
    } else if (isHead(s) || isCountStatement(s)) {
      cuts.push([semi ? s.start - 1 : s.start, s.end, '']);
    } else if (isDepthEntry(s)) {
      cuts.push([s.start, s.end, '']);
    } else if (isDepthTry(s)) {
      cuts.push([s.start, s.block.start + 1, ''], [s.block.end - 1, s.end, '']);
    } else if ((text.startsWith(`(${RT}.t=`, s.start) || (text.startsWith(`((${RT}.t=`, s.start) && s.expression?.type === 'ConditionalExpression' && isRt(s.expression.test?.left?.left, 't')) || text.startsWith(`(${RT}.s[`, s.start) || text.startsWith(`(${RT}.c[`, s.start)) && text[s.start - 1] === ';') {
      // The ';' that kept an inserted '(' from continuing the line before (it may parse as the
      // end of the statement before). Only these insertions open with '(': a user's own
      // parenthesis before another insertion (`;(__ppM.v(x,7)).join()`) keeps its ';'.
      cuts.push([s.start - 1, s.start, '']);
    }
  }
}

function visit(n: any, text: string, cuts: Cut[]): void {
  if (!n || typeof n.type !== 'string') return;
  switch (n.type) {
    case 'Program':
    case 'StaticBlock':
      statementList(n.body, text, cuts);
      break;
    case 'BlockStatement':
      if (isLoopBlock(n)) {
        const loop = n.body[n.body.length - 1];
        cuts.push([n.start, loop.start, ''], [loop.end, n.end, '']);
      } else statementList(n.body, text, cuts);
      break;
    case 'SwitchCase':
      statementList(n.consequent, text, cuts);
      break;
    case 'SequenceExpression':
      // `(__ppM.c[i]++,body)` around an arrow's body; `(__ppM.s[i]++,f(…))` and `(__ppM.c[j]++,f(…))` around a call.
      if (n.expressions.length >= 2 && (isBump(n.expressions[0], 'c') || isBump(n.expressions[0], 's')) && text[n.start - 1] === '(') {
        cuts.push([n.start - 1, n.expressions[1].start, ''], [n.end, n.end + 1, '']);
      }
      break;
    case 'AssignmentExpression':
      if (isRt(n.left, 't') && text[n.start - 1] === '(') {
        // `(__ppM.t=obj)`, or `(__ppM.t=(a, b))` around a sequence.
        const closing = text.slice(n.start - 1, n.right.start).split('(').length - 1;
        cuts.push([n.start - 1, n.right.start, ''], [n.right.end, n.right.end + closing, '']);
      }
      break;
    case 'ConditionalExpression': {
      // `((__ppM.t=obj)==null?void 0:__ppM.tm(s,__ppM.t,'name',args…))` was `obj?.name(args…)`.
      const t = n.test;
      const alt = n.alternate;
      const head = `((${RT}.t=`;
      if (t.type !== 'BinaryExpression' || t.operator !== '==' || t.left.type !== 'AssignmentExpression' || !isRt(t.left.left, 't')) break;
      if (alt.type !== 'CallExpression' || !isRt(alt.callee, 'tm') || alt.arguments.length < 3 || alt.arguments[2].type !== 'Literal') break;
      const obj = t.left.right;
      if (text.slice(obj.start - head.length, obj.start) !== head || text[alt.end] !== ')') break;
      const first = alt.arguments[3];
      cuts.push([obj.start - head.length, obj.start, ''], [obj.end, first ? first.start : alt.end - 1, `?.${String(alt.arguments[2].value)}(`], [alt.end, alt.end + 1, '']);
      break;
    }
    case 'CallExpression': {
      const c = n.callee;
      if (!isRt(c)) break;
      const name = c.property.name as string;
      const keep = KEEP_ARG[name];
      if (keep !== undefined && n.arguments[keep]) {
        const a = n.arguments[keep];
        cuts.push([n.start, a.start, ''], [a.end, n.end, '']);
      } else if (name === 'tm' && n.arguments.length >= 3 && n.arguments[2].type === 'Literal') {
        // `__ppM.tm(s,obj,'name',args…)` was `obj.name(args…)`.
        const [, obj, method, first] = n.arguments;
        cuts.push([n.start, obj.start, ''], [obj.end, first ? first.start : n.end - 1, `.${String(method.value)}(`]);
      }
      break;
    }
  }
  for (const key of Object.keys(n)) {
    if (key === 'loc') continue;
    const v = n[key];
    if (Array.isArray(v)) for (const x of v) visit(x, text, cuts);
    else if (v && typeof v.type === 'string') visit(v, text, cuts);
  }
}

/** `text` (parsed as `ast`) with every insertion taken out, between offsets from and to. */
function undo(ast: any, text: string, from: number, to: number): string | null {
  const cuts: Cut[] = [];
  visit(ast, text, cuts);
  // A no-break space keeps an insertion from gluing to a word before it (`return[…]` →
  // `return\u00a0__ppM.v([…],7)`): it goes with the insertion.
  for (const c of cuts) if (c[0] > 0 && text[c[0] - 1] === GLUE) c[0]--;
  cuts.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let at = from;
  for (const [start, end, repl] of cuts) {
    if (end <= at) continue; // inside a piece already cut
    if (start >= at) out += text.slice(at, start) + repl;
    at = end;
  }
  out += text.slice(at, to);
  return out.includes(RT) ? null : out;
}

/** The original text of an instrumented function, from the text V8 gives for it (null when not recoverable). */
export function originalFunctionText(text: string): string | null {
  if (!text.includes(RT)) return text;
  for (const [pre, post] of WRAPPERS) {
    const wrapped = pre + text + post;
    let ast;
    try {
      ast = parse(wrapped, { ecmaVersion: 'latest', sourceType: 'script', checkPrivateFields: false, allowSuperOutsideMethod: true, allowReturnOutsideFunction: true });
    } catch {
      try {
        ast = parse(wrapped, { ecmaVersion: 'latest', sourceType: 'module', checkPrivateFields: false, allowSuperOutsideMethod: true, allowAwaitOutsideFunction: true });
      } catch {
        continue;
      }
    }
    return undo(ast, wrapped, pre.length, wrapped.length - post.length);
  }
  return null;
}

/** The original source of a whole transformed module (the transform's inverse; null when not recoverable). */
export function originalSourceText(code: string, isModule: boolean): string | null {
  const base = { ecmaVersion: 'latest' as const, allowHashBang: true, allowAwaitOutsideFunction: true };
  for (const sourceType of isModule ? (['module'] as const) : (['script', 'module'] as const)) {
    // A CommonJS-named file with import/export syntax was transformed as a module (see parseProgram).
    try {
      const ast = parse(code, { ...base, sourceType, allowReturnOutsideFunction: !isModule, allowAwaitOutsideFunction: sourceType === 'module' });
      return undo(ast, code, 0, code.length);
    } catch {
      continue;
    }
  }
  return null;
}
