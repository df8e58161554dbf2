/**
 * Settings under `parallelProfiler.*`, declared once and shared by the profiler host and the
 * Atomics lint (src/extension/lint/). Keys match package.json `contributes.configuration`.
 */
import * as vscode from 'vscode';

/** Configuration section prefix. */
export const CONFIG_SECTION = 'parallelProfiler';

/** Setting keys relative to `parallelProfiler.` with their value types. */
export interface SettingTypes {
  nodePath: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  sampleInterval: number;
  timeout: number;
  raceDetection: boolean;
  instrumentDeps: boolean;
  deadlockTimeout: number;
  'codeLens.enabled': boolean;
  /** Atomics lint on/off as a whole (read by src/extension/lint/). */
  'lint.enabled': boolean;
  /** Per-rule switches: rule id → false turns that rule off (read by src/extension/lint/). */
  'lint.rules': Record<string, boolean>;
  /** Delay after typing before the lint re-runs, ms (read by src/extension/lint/). */
  'lint.debounceMs': number;
}

/** Setting key names, for `affectsConfiguration` checks and typed reads. */
export const Setting = {
  NodePath: 'nodePath',
  Args: 'args',
  Env: 'env',
  Cwd: 'cwd',
  SampleInterval: 'sampleInterval',
  Timeout: 'timeout',
  RaceDetection: 'raceDetection',
  InstrumentDeps: 'instrumentDeps',
  DeadlockTimeout: 'deadlockTimeout',
  CodeLensEnabled: 'codeLens.enabled',
  LintEnabled: 'lint.enabled',
  LintRules: 'lint.rules',
  LintDebounceMs: 'lint.debounceMs',
} as const satisfies Record<string, keyof SettingTypes>;

/** Defaults, identical to package.json (used when a setting is missing or mistyped). */
export const settingDefaults: SettingTypes = {
  nodePath: '',
  args: [],
  env: {},
  cwd: '',
  sampleInterval: 1000,
  timeout: 0,
  raceDetection: true,
  instrumentDeps: false,
  deadlockTimeout: 2000,
  'codeLens.enabled': true,
  'lint.enabled': true,
  'lint.rules': {},
  'lint.debounceMs': 300,
};

/** Reads one setting, falling back to the default when the stored value has the wrong type. */
export function getSetting<K extends keyof SettingTypes>(key: K, scope?: vscode.ConfigurationScope): SettingTypes[K] {
  const value = vscode.workspace.getConfiguration(CONFIG_SECTION, scope).get<unknown>(key);
  const fallback = settingDefaults[key];
  if (value === undefined || value === null) return fallback;
  if (Array.isArray(fallback)) return (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : fallback) as SettingTypes[K];
  if (typeof fallback === 'object') return (typeof value === 'object' && !Array.isArray(value) ? value : fallback) as SettingTypes[K];
  return (typeof value === typeof fallback ? value : fallback) as SettingTypes[K];
}

/** The full setting id, e.g. `parallelProfiler.codeLens.enabled`. */
export function settingId(key: keyof SettingTypes): string {
  return `${CONFIG_SECTION}.${key}`;
}
