// Entry point of the `palisade` command: argument parsing only. Each command lives in its own
// file under cli/ and registers itself here; the work happens in the modules below cli/.

import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, UsageError } from './errors.js';
import { commands } from './commands.js';

export function buildProgram(): Command {
  const program = new Command('palisade')
    .description('Micro-segmentation for containers: see, learn, check and enforce per-workload perimeters.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI and returns the exit code; never throws for bad input. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`palisade: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
