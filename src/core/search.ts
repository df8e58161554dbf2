/** Binary search shared by the analyses (sorted lists, columns, fact lists). */

/** First k in [0, n) where the monotone predicate holds (n when it never does). */
export function lowerBound(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
