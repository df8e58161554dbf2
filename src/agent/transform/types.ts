/**
 * The contract between the transform pipeline (transform/index.ts, owned by the base runtime)
 * and the passes that plug into it (functions.ts; sharedAccess.ts for races/locks).
 *
 * Rules every pass follows:
 * - Edits are insertions, or replacements of a source range that holds no newline, and the
 *   inserted text never holds a newline: line numbers of the program never move.
 * - A pass never reads the generated text; it only adds edits against the original offsets.
 * - Runtime code emitted refers to the module runtime through `ctx.runtimeVar` (`__ppM`), which
 *   the pipeline declares once per module (header) before any user code runs.
 */
import type { Node, Program } from 'acorn';
import type { AgentOptions, SiteKind } from '../../protocol/events';

/** Insertion/replacement list applied in one pass over the original source. */
export interface EditList {
  /**
   * Insert `text` before the original character at `offset`. Several insertions at one offset
   * come out closings first (order > 0), then openings (order <= 0), each sorted by `order`
   * (lower first), then by call order. Use a negative order for the opening part of a wrapper
   * and a positive one for the closing part, so wrappers nest, and siblings that touch (one ends
   * where the next starts) close before the next opens.
   * The function-counter pass uses order -100 for the openings it adds in front of an arrow
   * expression body and +100 for the closings after it; -1/+1 around a self-call.
   */
  insert(offset: number, text: string, order?: number): void;
  /**
   * Replace original source [start, end) with `text`. The range must not contain a newline
   * and must not overlap another replacement. Insertions at `start` come before the
   * replacement, insertions at `end` after it.
   */
  replace(start: number, end: number, text: string): void;
}

/** Everything a transform pass gets for one module. */
export interface TransformContext {
  /** The acorn AST (ecmaVersion 'latest', locations: true, ranges on node.start/node.end). */
  ast: Program;
  /** The source that was parsed (after TypeScript stripping, if any). */
  source: string;
  edits: EditList;
  /**
   * Register a site (e.g. a shared-memory access) at an original position: `line` 1-based and
   * `column` 0-based exactly as acorn's `node.loc.start` gives them. Returns the local site
   * index j; at run time the site id is `__ppM.fid * SITE_FID_SCALE + j`.
   */
  addSite(line: number, column: number, kind: SiteKind): number;
  /** Convenience: addSite at a node's start position. */
  addSiteAt(node: Node, kind: SiteKind): number;
  /** Name of the module runtime variable in the generated code: `__ppM`. */
  runtimeVar: string;
  /** Absolute path, or "[worker eval <hash of the code>]". */
  file: string;
  /** What V8 reports as callFrame.url (file:// URL for files). */
  url: string;
  /** True for ES modules (import/export allowed, top-level await). */
  isModule: boolean;
  options: AgentOptions;
}

/** A pass adds edits (and sites) to the context; it must not throw for valid programs. */
export type TransformPass = (ctx: TransformContext) => void;
