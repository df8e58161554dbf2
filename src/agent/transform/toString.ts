/**
 * `Function.prototype.toString` of instrumented functions gives their original text (see
 * untransform.ts): worker pools that send functions as source and eval workers built from
 * `${fn}` get the user's code, not code that needs this thread's `__ppM`. Functions without
 * instrumentation cost one substring search; results are cached per function.
 */
import { originalFunctionText } from './untransform';

const NATIVE_TEXT = 'function toString() { [native code] }';
let installed = false;
/** Original texts by function: recovered on first call, or known up front (functions built by the Function hook: V8's own text of the uninstrumented twin). */
const originals = new WeakMap<object, string>();
/** Stand-ins whose text is their target's (the Proxy installed as globalThis.Function). */
const aliases = new WeakMap<object, object>();

/** `fn.toString()` gives `text` (fn's own text holds instrumentation). */
export function rememberFunctionText(fn: object, text: string): void {
  originals.set(fn, text);
}

/** `Function.prototype.toString.call(standIn)` gives target's text (a Proxy's would be "function () { [native code] }"). */
export function aliasFunctionText(standIn: object, target: object): void {
  aliases.set(standIn, target);
}

/** Patch Function.prototype.toString in this thread (once). */
export function installOriginalToString(): void {
  if (installed) return;
  installed = true;
  const proto = Function.prototype as any;
  const native: (this: unknown) => string = proto.toString;
  // Method syntax: like the native one, it has no prototype and cannot be constructed.
  const { toString } = {
    toString(this: unknown): string {
      if (this === toString) return NATIVE_TEXT;
      const alias = typeof this === 'function' ? aliases.get(this) : undefined;
      const text = native.call(alias ?? this);
      if (!text.includes('__ppM')) return text;
      const fn = this as object;
      let orig = originals.get(fn);
      if (orig === undefined) {
        orig = originalFunctionText(text) ?? text;
        originals.set(fn, orig);
      }
      return orig;
    },
  };
  Object.defineProperty(proto, 'toString', { value: toString, writable: true, configurable: true, enumerable: false });
}
