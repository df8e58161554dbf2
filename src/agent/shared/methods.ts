/**
 * Names of the methods the transform routes (kept apart from the runtime so the transform stays
 * small): typed-array methods that read or write a range, DataView get/set and Node Buffer
 * read/write methods go through `__ppM.tm` (the arguments say which bytes); methods that read a
 * whole view get their receiver checked by `__ppM.v` (the call itself is left as written).
 */
export const WRITE_ALL = new Set(['sort', 'reverse']);
/** Whole-view readers routed through tm. */
export const READ_ALL = new Set(['toSorted', 'toReversed']);
export const DV_SIZE: Record<string, number> = {
  Int8: 1, Uint8: 1, Int16: 2, Uint16: 2, Float16: 2, Int32: 4, Uint32: 4, Float32: 4, Float64: 8, BigInt64: 8, BigUint64: 8,
};

/** Node Buffer fixed-size readers/writers: `read<T>(offset)` / `write<T>(value, offset)` → bytes. */
export const BUFFER_SIZE = new Map<string, number>();
for (const [t, n] of [
  ['Int8', 1], ['UInt8', 1], ['Uint8', 1],
  ['Int16LE', 2], ['Int16BE', 2], ['UInt16LE', 2], ['UInt16BE', 2], ['Uint16LE', 2], ['Uint16BE', 2],
  ['Int32LE', 4], ['Int32BE', 4], ['UInt32LE', 4], ['UInt32BE', 4], ['Uint32LE', 4], ['Uint32BE', 4],
  ['FloatLE', 4], ['FloatBE', 4], ['DoubleLE', 8], ['DoubleBE', 8],
  ['BigInt64LE', 8], ['BigInt64BE', 8], ['BigUInt64LE', 8], ['BigUInt64BE', 8], ['BigUint64LE', 8], ['BigUint64BE', 8],
] as const) {
  BUFFER_SIZE.set(`read${t}`, n);
  BUFFER_SIZE.set(`write${t}`, n);
}
/** Node Buffer readers/writers whose size is an argument: `readUIntLE(offset, byteLength)`, `writeUIntLE(value, offset, byteLength)`. */
export const BUFFER_SIZED = new Set(['IntLE', 'IntBE', 'UIntLE', 'UIntBE', 'UintLE', 'UintBE'].flatMap((t) => [`read${t}`, `write${t}`]));

/** Searches that stop at the element they find: the result says how far they read. */
export const SEARCHES = new Set(['indexOf', 'lastIndexOf', 'includes']);
/** Readers that stop when their callback says so: each element is recorded as the callback gets it. */
export const CALLBACK_READERS = new Set(['find', 'findIndex', 'findLast', 'findLastIndex', 'some', 'every']);
/** Iterators over a view's elements: each element is recorded as the iterator yields it. */
export const ELEMENT_ITERATORS = new Set(['entries', 'values']);

/** Method names the transform routes through `tm` (the Buffer `toString` only with start/end arguments). */
export const RANGE_METHODS = new Set([...WRITE_ALL, ...READ_ALL, ...SEARCHES, ...CALLBACK_READERS, ...ELEMENT_ITERATORS,
  'fill', 'set', 'copyWithin', 'slice', 'at', 'with',
  ...Object.keys(DV_SIZE).flatMap((t) => [`get${t}`, `set${t}`]),
  ...BUFFER_SIZE.keys(), ...BUFFER_SIZED, 'write', 'copy', 'toString']);

/**
 * Methods that read a whole view, left as written but with their receiver checked:
 * `__ppM.v(o, s).join()`. Partial readers (indexOf, includes, find, some…) stop at an element
 * known only afterwards: they go through `tm` (SEARCHES, CALLBACK_READERS) instead.
 */
export const VIEW_READERS = new Set(['join', 'reduce', 'reduceRight', 'map', 'forEach', 'filter', 'toLocaleString', 'toString']);

/** Constructors and `from` owners whose one argument, when a view, is copied (read whole). */
export const VIEW_COPIERS = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array']);
/** Static calls that read their first argument whole when it is a view: `JSON.stringify(view)`, `Object.values(view)`. */
export const STATIC_READERS = new Set(['JSON.stringify', 'Object.values', 'Object.entries']);
/** Owners of a `from(x)` that reads x whole. */
export const FROM_OWNERS = new Set([...VIEW_COPIERS, 'Array', 'Buffer']);
