/**
 * Names of the methods the transform routes through `__ppM.tm` (typed-array methods that read or
 * write a range, DataView get/set). Kept apart from the runtime so the transform stays small.
 */
export const WRITE_ALL = new Set(['sort', 'reverse']);
/** Whole-view readers. Array/string look-alikes (map, indexOf, join…) stay unrouted: too common elsewhere. */
export const READ_ALL = new Set(['toSorted', 'toReversed']);
export const DV_SIZE: Record<string, number> = {
  Int8: 1, Uint8: 1, Int16: 2, Uint16: 2, Float16: 2, Int32: 4, Uint32: 4, Float32: 4, Float64: 8, BigInt64: 8, BigUint64: 8,
};
/** Method names the transform routes through `tm` (typed-array range methods and DataView get/set). */
export const RANGE_METHODS = new Set([...WRITE_ALL, ...READ_ALL, 'fill', 'set', 'copyWithin', 'slice', 'at', 'with',
  ...Object.keys(DV_SIZE).flatMap((t) => [`get${t}`, `set${t}`])]);

