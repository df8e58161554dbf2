/**
 * Code compiled from strings at run time: `vm.runInThisContext`, `new vm.Script(…)
 * .runInThisContext()` and the `Function` constructor. Worker pools send a task as text and
 * rebuild it this way (workerpool's `pool.exec(fn)` with `new Function`, node-worker-threads-pool's
 * DynamicPool with `vm.runInThisContext`); without this its calls were not counted and its
 * shared-memory accesses not checked.
 *
 * The code is transformed as one expression (transform/index.ts `expression`): the module
 * runtime lives in a function scope of its own, so nothing leaks into the global scope and
 * two such codes never share a runtime. Code that is not one expression statement, or asks
 * for what the wrapper would change (line/column offsets, cached data, a dynamic-import
 * callback, top-level `arguments`/`eval`/`new.target`), runs as it is, and the report says so
 * once per thread. Code run in another context (runInNewContext, runInContext, a contextified
 * sandbox) has no `globalThis.__pp` and is never touched.
 *
 * `Function` becomes a Proxy of the real one, installed as globalThis.Function and as
 * Function.prototype.constructor (and as the [[Prototype]] of the AsyncFunction and generator
 * constructors, whose prototype is %Function%), so identity, name, length and instanceof
 * hold. Each construction first builds the real function from the same strings: syntax errors
 * are V8's own, and its text is the one `toString` keeps giving. The instrumented twin is
 * `(function anonymous(params\n) {\nbody\n})`, the very text V8 compiles, inside the wrapper;
 * its module runtime registers once per construction (the registry merges repeats of one code).
 */
import Module from 'node:module';
import { isAbsolute, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { functionCodeName, vmCodeName } from './codeNames';
import { shouldInstrument } from './instrumentable';
import type { AgentState } from './state';
import { transformSource } from './transform/index';
import { aliasFunctionText, rememberFunctionText } from './transform/toString';

/** A function built from strings (any signature). */
type AnyFn = (...args: unknown[]) => unknown;

/**
 * Different codes of one kind (vm, Function) a thread instruments: each costs a parse, a
 * transform, a compile and a module record (about 0.1 ms; 20,000 different `new Function`
 * texts took 2.2 s against 0.16 s plain). A pool compiles the same few again and again; a code
 * generator compiling thousands keeps its first ones instrumented and the rest run as they are.
 */
const DISTINCT_MAX = 256;

/** A name the Function twin must not bind (its own name, which the real one does not bind), or top-level code a wrapper would change. */
const FUNCTION_UNSAFE = /\banonymous\b/;
const VM_UNSAFE = /\b(arguments|eval)\b|new\s*\.\s*target/;

/** Install the vm and Function hooks in this thread. */
export function installDynamicCodeHooks(st: AgentState): void {
  const OrigScript = vm.Script;
  installVmHooks(st, OrigScript);
  installFunctionHook(st, OrigScript);
  (Module as any).syncBuiltinESMExports();
}

/** Past DISTINCT_MAX codes in `m`, a new one is not taken (said once); true when `key` may be looked up or added. */
function withinBudget(m: Map<string, unknown>, key: string, warnOnce: (kind: string, why: string) => void, kind: string): boolean {
  if (m.size < DISTINCT_MAX || m.has(key)) return true;
  warnOnce(kind, `more than ${DISTINCT_MAX} different codes were compiled from strings; the first ${DISTINCT_MAX} are instrumented`);
  return false;
}

/** Says once per thread and kind that some code built from a string ran uninstrumented. */
function onceWarner(st: AgentState): (kind: string, why: string) => void {
  const said = new Set<string>();
  return (kind, why) => {
    if (said.has(kind)) return;
    said.add(kind);
    st.warn(`${kind} compiled from a string in thread ${st.ctx.tid} ran uninstrumented (${why}): its calls are not counted and its shared-memory accesses are not checked for races`);
  };
}

function installVmHooks(st: AgentState, OrigScript: typeof vm.Script): void {
  const { ctx } = st;
  const origRun = vm.runInThisContext;
  const warnOnce = onceWarner(st);
  const transformed = new Map<string, string | null>();

  /** The instrumented script for `code` run in this context, or null (then the original runs). */
  function instrumented(code: unknown, opts: any): vm.Script | null {
    if (typeof code !== 'string' || (opts !== undefined && (opts === null || typeof opts !== 'object'))) return null;
    const o = opts ?? {};
    if (o.filename !== undefined && typeof o.filename !== 'string') return null;
    const file: string = o.filename ?? vmCodeName(code);
    if (isAbsolute(file) && !shouldInstrument(file, ctx.options, st.agentDir)) return null;
    if (o.lineOffset || o.columnOffset || o.cachedData || o.produceCachedData || typeof o.importModuleDynamically === 'function') {
      warnOnce('vm code', 'it asks for line or column offsets, cached data or its own dynamic-import callback');
      return null;
    }
    if (VM_UNSAFE.test(code)) {
      warnOnce('vm code', 'it uses arguments, eval or new.target');
      return null;
    }
    const key = `${file}\n${code}`;
    if (!withinBudget(transformed, key, warnOnce, 'vm code')) return null;
    let out = transformed.get(key);
    if (out === undefined) {
      const url = isAbsolute(file) ? pathToFileURL(file).href : file;
      const res = transformSource({ source: code, file, url, isModule: false, options: ctx.options, expression: true });
      if (res.warning && !/could not parse/.test(res.warning)) st.warn(res.warning);
      out = res.code;
      transformed.set(key, out);
      if (res.notExpression) warnOnce('vm code', 'it is not a single expression');
    }
    if (out === null) return null;
    try {
      return new OrigScript(out, { ...o, filename: file });
    } catch {
      return null; // the original compile reports the error
    }
  }

  const twins = new WeakMap<object, vm.Script | null>();
  const sources = new WeakMap<object, { code: unknown; opts: unknown }>();
  class Script extends OrigScript {
    constructor(code: string, ...rest: any[]) {
      super(code, ...rest);
      sources.set(this, { code, opts: rest[0] });
    }

    override runInThisContext(...args: any[]): unknown {
      let twin = twins.get(this);
      if (twin === undefined) {
        const src = sources.get(this);
        twin = src ? instrumented(src.code, src.opts) : null;
        twins.set(this, twin);
      }
      return twin ? twin.runInThisContext(...args) : super.runInThisContext(...args);
    }
  }
  Object.defineProperty(Script, 'name', { value: 'Script' });

  function runInThisContext(this: unknown, code: string, options?: any): unknown {
    const opts = typeof options === 'string' ? { filename: options } : options;
    const script = instrumented(code, opts);
    // As called (same arity, a string filename as given): the original's checks and errors.
    // eslint-disable-next-line prefer-rest-params
    if (!script) return (origRun as any).apply(this, arguments);
    return script.runInThisContext(opts);
  }
  (vm as any).Script = Script;
  (vm as any).runInThisContext = runInThisContext;
}

function installFunctionHook(st: AgentState, OrigScript: typeof vm.Script): void {
  const { ctx } = st;
  const OrigFunction = Function;
  const nativeToString = Function.prototype.toString;
  const warnOnce = onceWarner(st);
  /** Compiled wrapper by the function's text (null: not instrumentable). */
  const scripts = new Map<string, vm.Script | null>();

  function twinOf(strings: string[], real: AnyFn): AnyFn {
    try {
      return buildTwin(strings, real);
    } catch (e) {
      warnOnce('Function code', `its instrumented copy failed: ${String(e)}`);
      return real;
    }
  }

  function buildTwin(strings: string[], real: AnyFn): AnyFn {
    const params = strings.slice(0, -1).join(',');
    const body = strings.length > 0 ? strings[strings.length - 1]! : '';
    const text = `function anonymous(${params}\n) {\n${body}\n}`;
    if (!withinBudget(scripts, text, warnOnce, 'Function code')) return real;
    let script = scripts.get(text);
    if (script === undefined) {
      script = null;
      if (nativeToString.call(real) !== text) warnOnce('Function code', 'V8 gave it an unexpected text');
      else if (FUNCTION_UNSAFE.test(text.slice(18))) warnOnce('Function code', 'it names `anonymous`, which the instrumented copy would bind');
      // vm's loader for compiled code is experimental in Node 20 and says so on stderr.
      else if (text.includes('import(')) warnOnce('Function code', 'it calls import(), which code compiled by the profiler could not');
      else {
        const name = functionCodeName(text);
        const out = transformSource({ source: `(${text})`, file: name, url: name, isModule: false, options: ctx.options, expression: true });
        if (out.warning) st.warn(out.warning);
        if (out.code !== null) {
          try {
            script = new OrigScript(out.code, { filename: name });
          } catch (e) {
            warnOnce('Function code', `its instrumented copy did not compile: ${String(e)}`);
          }
        }
      }
      scripts.set(text, script);
    }
    if (!script) return real;
    const fn = script.runInThisContext();
    if (typeof fn !== 'function') return real;
    rememberFunctionText(fn, text);
    return fn;
  }

  // Each argument to a string once, in order, as Function does (a throwing toString, a Symbol: the same error).
  const toStrings = (args: readonly unknown[]): string[] => Array.prototype.map.call(args, (a) => `${a as string}`) as string[];

  // eslint-disable-next-line prefer-const
  let proxy: FunctionConstructor;
  // An error of the real construction (a SyntaxError, a throwing toString) shows no frame of ours.
  const ours = `${st.agentDir}${sep}agent`;
  // Only with Node's own stack formatting: a program's prepareStackTrace runs when it asks.
  const nodePrepare = (Error as any).prepareStackTrace;
  const rethrow = (e: unknown): never => {
    if (e instanceof Error && (Error as any).prepareStackTrace === nodePrepare) {
      try {
        const stack = e.stack;
        if (typeof stack === 'string' && stack.includes(ours)) e.stack = stack.split('\n').filter((l) => !l.includes(ours)).join('\n');
      } catch {
        // leave it
      }
    }
    throw e;
  };
  const handler: ProxyHandler<FunctionConstructor> = {
    apply(target, thisArg, args) {
      let strings: string[];
      let real: AnyFn;
      try {
        strings = toStrings(args);
        real = Reflect.apply(target, thisArg, strings) as AnyFn;
      } catch (e) {
        return rethrow(e);
      }
      return twinOf(strings, real);
    },
    construct(target, args, newTarget) {
      // A subclass (`class F extends Function`) gets the real thing.
      if (newTarget !== proxy) return Reflect.construct(target, args, newTarget);
      let strings: string[];
      let real: AnyFn;
      try {
        strings = toStrings(args);
        real = Reflect.construct(target, strings) as AnyFn;
      } catch (e) {
        return rethrow(e);
      }
      return twinOf(strings, real);
    },
  };
  proxy = new Proxy(OrigFunction, handler);
  aliasFunctionText(proxy, OrigFunction);
  Object.defineProperty(globalThis, 'Function', { ...Object.getOwnPropertyDescriptor(globalThis, 'Function'), value: proxy });
  Object.defineProperty(OrigFunction.prototype, 'constructor', { ...Object.getOwnPropertyDescriptor(OrigFunction.prototype, 'constructor'), value: proxy });
  for (const make of [async function () {}, function* () {}, async function* () {}]) {
    const ctor = Object.getPrototypeOf(make).constructor;
    if (Object.getPrototypeOf(ctor) === OrigFunction) Object.setPrototypeOf(ctor, proxy);
  }
}
