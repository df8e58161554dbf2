/** parprof — the command-line twin of the extension. Dispatches to one module per command. */
import { UserError } from '../core/api';

const USAGE = `usage:
  parprof run <file> [--out DIR] [--no-races] [--timeout SEC] [--sample-interval US]
                     [--sort KEY] [--json] [--fail-on-race] [--instrument-deps] [-- program args...]
  parprof scale <file> --workers 1,2,4 [--env NAME | --arg TEMPLATE] [--repeat N] [--out DIR] [--json]
  parprof lint <file...> [--json]
  parprof export <DIR> --format chrome|cpuprofile|pstats|speedscope`;

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
      process.stdout.write(USAGE + '\n');
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
