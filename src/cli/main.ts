/** parprof — the command-line twin of the extension. Dispatches to one module per command. */
import { UserError } from '../core/api';

const USAGE = `usage:
  parprof run <file> [--out DIR] [--no-races] [--timeout SEC] [--sample-interval US]
                     [--sort KEY] [--json] [--fail-on-race] [--instrument-deps]
                     [--race-sample RATE] [--deadlock-timeout MS] [--no-counts] [--no-locks]
                     [--limit N] [--all] [--node PATH] [--backend auto|inspector|v8-profiler-next]
                     [-- program args...]
  parprof scale <file> --workers 1,2,4 [--env NAME | --arg TEMPLATE] [--repeat N] [--out DIR]
                       [--json] [--profile] [--timeout SEC] [-- program args...]
  parprof lint <file|dir...> [--json] [--disable RULE,...]
  parprof export <DIR> --format chrome|cpuprofile|pstats|speedscope [--out FILE|DIR] [--sort KEY]

  "parprof <command> --help" shows one command's usage.
exit codes: 0 profiled (the program's own exit code is in the report), 2 usage or input error,
  3 --fail-on-race and races were found; lint: 1 when an error-severity finding exists`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return (await import('./run')).runCommand(rest);
    case 'scale':
      return (await import('./scale')).scaleCommand(rest);
    case 'lint':
      return (await import('./lint')).lintCommand(rest);
    case 'export':
      return (await import('./export')).exportCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(`parprof ${PARPROF_VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      // Asked for, it is the output; a bare "parprof" is a usage error, said on stderr.
      (cmd === undefined ? process.stderr : process.stdout).write(USAGE + '\n');
      return cmd === undefined ? 2 : 0;
    default:
      throw new UserError(`unknown command "${cmd}"; run "parprof --help" for usage`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`parprof: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`parprof: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
