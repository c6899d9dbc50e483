/**
 * `buildfarm`: validate and plan pipeline files, run builds locally, serve the local farm.
 * User errors print their message only (no stack trace) and exit 1.
 */
import { PipelineInvalid, UserError } from '../domain/errors.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

type Command = (args: string[], io: CliIo) => Promise<number>;

const USAGE = `Usage: buildfarm <command> [options]

Commands:
  validate [FILE|DIR ...]         check pipeline files (default ./.buildfarm.yml; DIR: DIR/.buildfarm.yml)
       [--lambda-storage MB] [--region R] [--prices FILE]
  plan [FILE|DIR] [--json]        show where each stage runs, at what size, why, and what it should cost
       [--event push|pull_request] [--branch B] [--base B] [--region R] [--prices FILE] [--lambda-storage MB]
       [--data-dir DIR] [--repo OWNER/NAME]  (the stage history predictions and right-sizing use)
                                  (or "not triggered: <reason>" when the on: triggers do not match)
  run [DIR] [--json]              build a local git repository's HEAD through the real state machine
       [--logs|--no-logs] [--working-tree] [--data-dir DIR] [--stage-concurrency N]
       [--region R] [--prices FILE] [--lambda-storage MB]
  serve [--port N] [--repo OWNER/NAME=PATH ...] [--demo]
       [--data-dir DIR] [--stage-concurrency N] [--region R] [--prices FILE] [--lambda-storage MB]
                                  the local farm: webhooks, builds and the dashboard
       [--keep-days N] [--keep-builds N]
  gc [--data-dir DIR] [--keep-days N] [--keep-builds N] [--dry-run]
                                  remove old finished builds of the local farm (serve does it at start)

Environment (used when the flag is not given):
  BUILDFARM_REGION                --region (wins over AWS_REGION; default us-east-1)
  BUILDFARM_PRICES                --prices
  BUILDFARM_LAMBDA_STORAGE_MB     --lambda-storage (default 512)
  BUILDFARM_KEEP_DAYS             --keep-days (default 30)
  BUILDFARM_KEEP_BUILDS           --keep-builds (default 50)
  BUILDFARM_STAGE_CONCURRENCY     --stage-concurrency (default: this machine's cores)

The data directory (run, serve, gc) defaults to ./buildfarm-data; --data-dir names another
(--data is an old spelling of it).

Run 'buildfarm <command> --help' for a command's options.`;

// Each command loads only when used: plan pulls in the AWS SDK and (for its history) the S3 server,
// run and serve the interpreter too, and loading modules is most of a start (issue 12's fixed
// overhead). Literal specifiers, so the CLI bundle (scripts/bundle.mjs) splits each into a chunk of its own.
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  gc: async () => (await import('./commands/gc.js')).gcCommand,
};

/** parseArgs' errors, in the CLI's words: the flag named, and where the options are listed. */
function usageError(command: string, err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!(err instanceof Error) || code === undefined || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const help = `see 'buildfarm ${command} --help'`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-[^']*)'/.exec(err.message)?.[1] ?? 'an option';
    return `buildfarm ${command}: unknown option ${flag} (${help} for its options)\n`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const argument = /'([^']*)'/.exec(err.message)?.[1];
    return `buildfarm ${command}: unexpected argument${argument ? ` "${argument}"` : ''} (${help})\n`;
  }
  // ERR_PARSE_ARGS_INVALID_OPTION_VALUE: a flag without its value, or a value for a switch.
  return `buildfarm ${command}: ${err.message} (${help})\n`;
}

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`buildfarm: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof PipelineInvalid || err instanceof UserError) {
      io.stderr.write(`${err.message}\n`);
      return 1;
    }
    const usage = usageError(name, err);
    if (usage !== undefined) {
      io.stderr.write(usage);
      return 2;
    }
    throw err;
  }
}
