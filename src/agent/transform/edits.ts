/**
 * An insertion/replacement list applied to the original source in one pass. No edit adds or
 * removes a newline, so lines never move; columns are mapped with `generatedOffset`.
 */
import type { EditList } from './types';

interface Insertion {
  pos: number;
  text: string;
  order: number;
  seq: number;
}

interface Replacement {
  start: number;
  end: number;
  text: string;
}

/** The result of applying an edit list: the new code and an original→generated offset map. */
export interface AppliedEdits {
  code: string;
  /** Generated offset of the original character at `offset` (insertions there come before it). */
  generatedOffset(offset: number): number;
  /** Every edit in generated order, flat: [original offset, characters removed, characters added, …]. */
  spans: number[];
}

/** Text that, put at the start of a line, would continue the expression of the line before. */
const CONTINUES_LINE = /^[([`+\-/]/;
/** Characters that continue a word (identifier or keyword): an insertion starting with one must not follow one. */
const WORD = /[\p{ID_Continue}$\u200c\u200d]/u;
/**
 * Goes between a word and an insertion that starts with a word character (`return[…]` must
 * not become `return__ppM…`): whitespace to the parser, and never written by hand in code, so
 * the original text of a function can be told apart (untransform.ts).
 */
export const GLUE = '\u00a0';

/** How many entries of the non-decreasing `sorted` are <= x. */
export function countAtOrBelow(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The mutable edit list handed to transform passes. */
export class Edits implements EditList {
  private readonly insertions: Insertion[] = [];
  private readonly replacements: Replacement[] = [];

  get size(): number {
    return this.insertions.length + this.replacements.length;
  }

  insert(offset: number, text: string, order = 0): void {
    if (text.includes('\n') || text.includes('\r')) throw new Error('inserted text must not contain a newline');
    this.insertions.push({ pos: offset, text, order, seq: this.insertions.length });
  }

  replace(start: number, end: number, text: string): void {
    if (text.includes('\n') || text.includes('\r')) throw new Error('replacement text must not contain a newline');
    this.replacements.push({ start, end, text });
  }

  /** Sorted offsets of insertions whose text could continue the line before (see apply). */
  continuationCandidates(): number[] {
    const out = this.insertions.filter((e) => CONTINUES_LINE.test(e.text)).map((e) => e.pos);
    return [...new Set(out)].sort((a, b) => a - b);
  }

  /**
   * Apply every edit to `source` (throws when replacements overlap or span a newline).
   * `statementStarts`: offsets where a statement of a statement list begins; when the text
   * inserted there opens with a character that would continue the previous line (`(`, `[`…),
   * a `;` goes first, so code that relies on automatic semicolon insertion keeps its meaning.
   */
  apply(source: string, statementStarts?: ReadonlySet<number>): AppliedEdits {
    // At one position, closings (order > 0, of a node ending there) come before openings (of a
    // node starting there: siblings written without a space between, `for(…)a[i]=0;for(…)…`).
    const closing = (e: Insertion): number => (e.order > 0 ? 0 : 1);
    const ins = [...this.insertions].sort((a, b) => a.pos - b.pos || closing(a) - closing(b) || a.order - b.order || a.seq - b.seq);
    if (statementStarts) {
      for (let k = 0; k < ins.length; k++) {
        const e = ins[k]!;
        const firstOpening = closing(e) === 1 && (k === 0 || ins[k - 1]!.pos !== e.pos || closing(ins[k - 1]!) === 0);
        if (firstOpening && statementStarts.has(e.pos) && CONTINUES_LINE.test(e.text)) ins[k] = { ...e, text: ';' + e.text };
      }
    }
    const reps = [...this.replacements].sort((a, b) => a.start - b.start);
    // Breakpoints for the offset map: (key, delta) where every original offset >= key shifts by delta.
    const keys: number[] = [];
    const deltas: number[] = [];
    const spans: number[] = [];
    const parts: string[] = [];
    let cursor = 0;
    let i = 0;
    let r = 0;
    /** The last character written, when it was inserted text (what follows `cursor`'s left side). */
    let last = '';
    while (i < ins.length || r < reps.length) {
      const nextIns = i < ins.length ? ins[i]!.pos : Infinity;
      const nextRep = r < reps.length ? reps[r]!.start : Infinity;
      if (nextIns <= nextRep) {
        const e = ins[i++]!;
        if (e.pos < cursor) throw new Error(`insertion at ${e.pos} falls inside a replacement`);
        const before = e.pos > cursor ? source[e.pos - 1]! : last;
        const text = WORD.test(e.text[0] ?? '') && WORD.test(before) ? GLUE + e.text : e.text;
        parts.push(source.slice(cursor, e.pos), text);
        cursor = e.pos;
        last = text[text.length - 1] ?? before;
        keys.push(e.pos);
        deltas.push(text.length);
        spans.push(e.pos, 0, text.length);
      } else {
        const e = reps[r++]!;
        if (e.start < cursor) throw new Error(`overlapping replacement at ${e.start}`);
        const old = source.slice(e.start, e.end);
        if (old.includes('\n') || old.includes('\r')) throw new Error('a replaced range must not contain a newline');
        parts.push(source.slice(cursor, e.start), e.text);
        cursor = e.end;
        last = e.text[e.text.length - 1] ?? (e.start > 0 ? source[e.start - 1]! : '');
        keys.push(e.end);
        deltas.push(e.text.length - (e.end - e.start));
        spans.push(e.start, e.end - e.start, e.text.length);
      }
    }
    parts.push(source.slice(cursor));
    const cum: number[] = [];
    let sum = 0;
    for (const d of deltas) cum.push((sum += d));
    return {
      code: parts.join(''),
      spans,
      generatedOffset(offset: number): number {
        const n = countAtOrBelow(keys, offset);
        return offset + (n > 0 ? cum[n - 1]! : 0);
      },
    };
  }
}
