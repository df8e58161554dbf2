/**
 * A walk over what structured clone copies (arrays, Maps, Sets, plain objects and class
 * instances' own enumerable properties), in an order that is the same on a value and on its
 * clone: the sender and the receiver of a message both walk it and pair what they find by
 * position (shared buffers with their ids, message ports to patch). Iterative (any depth),
 * bounded by a budget of slots looked at, so a big message of plain data costs little.
 */

/** Slots (elements, property values, map entries) looked at per walk at most. */
export const WALK_BUDGET = 200_000;

const MemoryCtor: (abstract new (...a: never[]) => object) | undefined = (globalThis as any).WebAssembly?.Memory;

/** Objects whose clone is not built from their enumerable properties (or that cannot hold anything we look for). */
function isLeaf(v: object): boolean {
  return (
    ArrayBuffer.isView(v) ||
    v instanceof ArrayBuffer ||
    v instanceof SharedArrayBuffer ||
    v instanceof Date ||
    v instanceof RegExp ||
    v instanceof Error ||
    v instanceof Promise ||
    v instanceof EventTarget ||
    (MemoryCtor !== undefined && v instanceof MemoryCtor) ||
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** Slots of a plain object or array that the flat check looks at, at most. */
const FLAT_SLOTS = 64;

/**
 * Whether `v` is an array or plain object of at most FLAT_SLOTS slots, none of them an object:
 * then a walk would find nothing. Most messages are such values; the check allocates nothing.
 */
function isFlat(v: object): boolean {
  if (Array.isArray(v)) {
    const n = v.length;
    if (n > FLAT_SLOTS) return false;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x !== null && typeof x === 'object') return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  let n = 0;
  for (const k in v) {
    if (++n > FLAT_SLOTS) return false;
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object') return false;
  }
  return true;
}

/**
 * Call `visit` on every leaf object (not an array, Map, Set or plain object: buffers, views,
 * ports, memories, dates…) reachable from `value` the way structured clone copies it, in
 * pre-order, each object once.
 */
export function walkCloneable(value: unknown, visit: (leaf: object) => void, budget = WALK_BUDGET): void {
  if (value === null || typeof value !== 'object' || isFlat(value)) return;
  const stack: object[] = [value];
  const seen = new Set<object>();
  let left = budget;
  const push = (x: unknown): void => {
    if (x !== null && typeof x === 'object') stack.push(x);
  };
  while (stack.length > 0 && left > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    left--;
    // Children are pushed last first, so the first child is walked next (pre-order).
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) {
      const n = Math.min(v.length, left);
      left -= n;
      for (let i = n - 1; i >= 0; i--) push(v[i]);
      continue;
    }
    if (proto !== Object.prototype && proto !== null) {
      if (v instanceof Map || v instanceof Set) {
        // Entries (or items) in order, as many as the budget allows.
        const items: unknown[] = [];
        for (const e of v) {
          if (items.length >= left) break;
          items.push(e);
        }
        left -= items.length;
        for (let i = items.length - 1; i >= 0; i--) {
          if (v instanceof Map) {
            const [key, val] = items[i] as [unknown, unknown];
            push(val);
            push(key);
          } else push(items[i]);
        }
        continue;
      }
      if (isLeaf(v)) {
        visit(v);
        continue;
      }
      // A class instance clones as a plain object of its own enumerable properties.
    }
    const keys = Object.keys(v);
    const n = Math.min(keys.length, left);
    left -= n;
    for (let i = n - 1; i >= 0; i--) push((v as Record<string, unknown>)[keys[i]!]);
  }
}
