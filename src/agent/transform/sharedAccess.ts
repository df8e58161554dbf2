/**
 * PLACEHOLDER written by H1 (base runtime) so the transform builds before the shared-access
 * pass exists. H2 owns this file and replaces it with the real pass.
 */
import type { TransformContext } from './types';

/** Instrument shared-memory accesses and Atomics calls of one module. */
export function instrumentSharedAccess(_ctx: TransformContext): void {}
