/**
 * TypeScript → JavaScript with sucrase (pure JS, keeps every line where it was, so reported
 * lines match the .ts source).
 */
import { transform } from 'sucrase';

/** Strip types; `toCommonJS` also turns import/export into require/exports. */
export function stripTypes(source: string, filePath: string, toCommonJS: boolean): string {
  const isTsx = filePath.endsWith('x');
  return transform(source, {
    transforms: toCommonJS ? ['typescript', 'imports', ...(isTsx ? (['jsx'] as const) : [])] : ['typescript', ...(isTsx ? (['jsx'] as const) : [])],
    filePath,
    disableESTransforms: true,
  }).code;
}
