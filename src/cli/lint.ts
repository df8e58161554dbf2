/**
 * `parprof lint <file…> [--json] [--disable RULE,…]`: the Atomics lint on the command line.
 * Prints `file:line:col  severity  rule  message`; `--json` prints `{diagnostics: […]}` only.
 * Exit 0 clean or warnings only, 1 when any error-severity finding exists, 2 on bad input
 * (a file that does not parse is named in one line on stderr; the other files are still linted).
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { UserError } from '../core/api';
import { lintText, RULE_IDS, syntaxError, type LintFinding } from '../core/lint/index';
import { parseArgs } from './args';

const USAGE = 'usage: parprof lint <file or folder...> [--json] [--disable RULE,...]';
const EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx']);

/** Files to lint: each file as given, folders searched for JS/TS files (node_modules skipped). */
function expand(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (EXTENSIONS.has(extname(name)) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UserError(`cannot read ${p}: no such file or folder`);
    }
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

/** The human line for one finding. */
export function formatFinding(f: LintFinding): string {
  return `${f.file}:${f.line}:${f.column}  ${f.severity}  ${f.rule}  ${f.message}`;
}

/** Runs `parprof lint`; returns the exit code. */
export async function lintCommand(argv: string[]): Promise<number> {
  try {
    const { flags, positionals } = parseArgs(argv, { json: 'boolean', disable: 'list', help: 'boolean' }, { '-h': 'help' });
    if (flags.help) {
      process.stdout.write(`${USAGE}\nrules: ${RULE_IDS.join(', ')}\n`);
      return 0;
    }
    if (!positionals.length) throw new UserError(`no files to lint; ${USAGE}`);
    const disabled = (flags.disable as string[] | undefined) ?? [];
    const unknown = disabled.filter((r) => !(RULE_IDS as readonly string[]).includes(r));
    if (unknown.length) throw new UserError(`unknown rule "${unknown[0]}"; rules are ${RULE_IDS.join(', ')}`);
    const findings: LintFinding[] = [];
    const unparsable: string[] = [];
    let linted = 0;
    for (const file of expand(positionals)) {
      let source: string;
      try {
        source = await readFile(file, 'utf8');
      } catch (e) {
        throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      // The analyser's parse, when it recovered from nothing, already says the file is valid: no second, strict parse.
      const result = lintText(source, file, { disabledRules: disabled });
      const bad = result.valid ? null : syntaxError(source, file);
      if (bad) {
        unparsable.push(`could not parse ${file}: ${bad.message} (${bad.line}:${bad.column})`);
        continue;
      }
      findings.push(...result.findings);
      linted++;
    }
    if (flags.json) {
      const diagnostics = findings.map(({ rule, severity, file, line, column, endLine, endColumn, message }) => ({ rule, severity, file, line, column, endLine, endColumn, message }));
      process.stdout.write(JSON.stringify({ diagnostics }, null, 2) + '\n');
    } else {
      for (const f of findings) process.stdout.write(formatFinding(f) + '\n');
      const errors = findings.filter((f) => f.severity === 'error').length;
      if (linted > 0) process.stderr.write(`${findings.length} finding(s), ${errors} error(s)\n`);
    }
    for (const line of unparsable) process.stderr.write(`parprof lint: ${line}\n`);
    if (unparsable.length) return 2;
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    process.stderr.write(`parprof lint: ${e.message}\n`);
    return 2;
  }
}
