/**
 * Range lookups over the model's fact lists, which the walk builds in source order (sorted by start
 * offset): the facts inside a loop, or after an offset, are found by binary search instead of a scan
 * of the whole file. A node that starts inside another ends inside it, so a scan from the first fact
 * at or after a range's start can stop at the first one that starts past its end.
 */
import type { Node } from './ast';
import { lowerBound } from '../search';

/** Index of the first fact whose node starts at or after `pos`. */
export function firstFrom<T extends { node: Node }>(list: readonly T[], pos: number): number {
  return lowerBound(list.length, (k) => list[k]!.node.start >= pos);
}

/** The first fact that lies within [start, end) (its node starts and ends there) and that `keep` accepts. */
export function findWithin<T extends { node: Node }>(list: readonly T[], start: number, end: number, keep: (x: T) => boolean): T | undefined {
  for (let i = firstFrom(list, start); i < list.length; i++) {
    const x = list[i]!;
    if (x.node.start >= end) break;
    if (x.node.end <= end && keep(x)) return x;
  }
  return undefined;
}

/** Every fact that lies within [start, end) and that `keep` accepts, in source order. */
export function filterWithin<T extends { node: Node }>(list: readonly T[], start: number, end: number, keep: (x: T) => boolean): T[] {
  const out: T[] = [];
  for (let i = firstFrom(list, start); i < list.length; i++) {
    const x = list[i]!;
    if (x.node.start >= end) break;
    if (x.node.end <= end && keep(x)) out.push(x);
  }
  return out;
}

/** The first fact whose node starts in [start, end) and that `keep` accepts. */
export function findStarting<T extends { node: Node }>(list: readonly T[], start: number, end: number, keep: (x: T) => boolean): T | undefined {
  for (let i = firstFrom(list, start); i < list.length; i++) {
    const x = list[i]!;
    if (x.node.start >= end) break;
    if (keep(x)) return x;
  }
  return undefined;
}

/** The first fact whose node starts after `pos` and that `keep` accepts. */
export function findAfter<T extends { node: Node }>(list: readonly T[], pos: number, keep?: (x: T) => boolean): T | undefined {
  for (let i = firstFrom(list, pos + 1); i < list.length; i++) {
    const x = list[i]!;
    if (!keep || keep(x)) return x;
  }
  return undefined;
}

/** True when a sorted list of offsets holds one in [start, end). */
export function anyOffsetWithin(offsets: readonly number[], start: number, end: number): boolean {
  const lo = lowerBound(offsets.length, (k) => offsets[k]! >= start);
  return lo < offsets.length && offsets[lo]! < end;
}

/** Facts grouped by a key, each group in source order (the order of `list`). */
export function groupBy<T>(list: readonly T[], keyOf: (x: T) => string | null): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of list) {
    const k = keyOf(x);
    if (k === null) continue;
    const g = out.get(k);
    if (g) g.push(x);
    else out.set(k, [x]);
  }
  return out;
}
