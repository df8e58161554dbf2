/**
 * A small flag parser shared by the CLI commands: `--name value`, `--name=value`, boolean
 * `--flag` / `--no-flag`, repeatable lists, `--` ending our flags. Mistakes are UserErrors.
 */
import { UserError } from '../core/api';

/** How a flag takes its value. */
export type FlagKind = 'boolean' | 'string' | 'number' | 'list';

/** Flag name (without dashes) → kind. A boolean `x` also accepts `--no-x`. */
export type FlagSpec = Record<string, FlagKind>;

/** Parsed command line. */
export interface ParsedArgs {
  flags: Record<string, string | number | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after `--`. */
  rest: string[];
}

/** Parses argv against spec; `aliases` maps short flags ("-o") to names ("out"). */
export function parseArgs(argv: string[], spec: FlagSpec, aliases: Record<string, string> = {}): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { flags, positionals, rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else {
      const n = aliases[a];
      if (!n) throw new UserError(`unknown option ${a}`);
      name = n;
    }
    const kind = spec[name];
    if (!kind && name.startsWith('no-') && spec[name.slice(3)] === 'boolean') {
      if (inline !== undefined) throw new UserError(`--${name} takes no value`);
      flags[name.slice(3)] = false;
      continue;
    }
    if (!kind) throw new UserError(`unknown option --${name}`);
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UserError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    // An empty value ("--out=", or an unset $VAR) is a missing one: --out "" would write into the cwd.
    if (value === undefined || value.trim() === '' || (inline === undefined && value.startsWith('--'))) throw new UserError(`--${name} needs a value`);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got "${value}"`);
      flags[name] = n;
    } else if (kind === 'list') {
      const prev = (flags[name] as string[] | undefined) ?? [];
      flags[name] = prev.concat(value.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      flags[name] = value;
    }
  }
  return { flags, positionals, rest: [] };
}
