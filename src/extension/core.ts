/**
 * The one place the host reaches the core: `profileProgram` (src/core/index.ts) and the
 * scaling lab, handed the same profileProgram so each count's profiled run is a full report.
 */
import type { ScalingResult } from '../protocol/scaling';
import { profileProgram } from '../core/index';
import { runScaling as coreRunScaling, type ScalingOptions } from '../core/scaling/index';

export { profileProgram };
export { defaultWorkerCounts } from '../core/scaling/index';
export type { ScalingOptions };
export { UserError } from '../core/api';
export type { ProfileOptions, ProfileResult } from '../core/api';

/** The core's scaling lab, profiling with the same profileProgram as "Profile in Parallel". */
export function runScaling(opts: ScalingOptions): Promise<ScalingResult> {
  return coreRunScaling({ profileProgram: (o) => profileProgram(o), ...opts });
}
