/** Typed-array columns that grow by doubling, for the analyses' columnar stores. */

export type NumberArray = Float64Array | Uint32Array | Int32Array | Uint8Array;

/** `a`, or a copy at least `need` long (twice as long at least) when it is shorter. */
export function grown<T extends NumberArray>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** One growing column: `a` holds its first `n` values. */
export class Column<A extends NumberArray> {
  n = 0;
  constructor(public a: A) {}
  push(v: number): void {
    this.a = grown(this.a, this.n + 1);
    this.a[this.n++] = v;
  }
}
