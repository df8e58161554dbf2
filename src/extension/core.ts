/**
 * The one place the host reaches the core. `profileProgram` comes from ./coreStub while
 * src/core/index.ts is missing and switches to the real module when it lands; the scaling lab
 * is the core's, handed the same profileProgram.
 */
import type { ScalingResult } from '../protocol/scaling';
import { runScaling as coreRunScaling, type ScalingOptions } from '../core/scaling/index';
import { profileProgram } from './coreStub';

export { profileProgram };
export { defaultWorkerCounts } from '../core/scaling/index';
export type { ScalingOptions };
export { UserError } from '../core/api';
export type { ProfileOptions, ProfileResult } from '../core/api';

/** The core's scaling lab, profiling with the same profileProgram as "Profile in Parallel". */
export function runScaling(opts: ScalingOptions): Promise<ScalingResult> {
  return coreRunScaling({ profileProgram, ...opts });
}
