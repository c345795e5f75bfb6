// `palisade diff OLD NEW --inventory I` (also `palisade policy diff`): what a policy change does to connectivity (added,
// removed and changed connections, with the rules on each side), from policy/analyze/diff.ts.

import type { Command } from 'commander';
import { choice, loadReachability } from './analyze.js';
import { setExitCode } from './commands.js';
import { EXIT_OK } from './errors.js';
import { DIFF_FORMATS, diffReach, formatDiff } from '../policy/analyze/diff.js';
import { REACH_LEVELS } from '../policy/analyze/report.js';

interface DiffOptions {
  inventory: string;
  level: string;
  format: string;
}

async function runDiff(oldPath: string, newPath: string, options: DiffOptions): Promise<void> {
  const format = choice('diff', '--format', options.format, DIFF_FORMATS);
  const level = choice('diff', '--level', options.level, REACH_LEVELS);
  const before = await loadReachability('diff', [oldPath], options.inventory);
  const after = await loadReachability('diff', [newPath], options.inventory);
  process.stdout.write(formatDiff(diffReach(before, after, level), format));
  setExitCode(EXIT_OK);
}

/** Options and action of the diff command; it stands at the top level and under `policy`. */
export function defineDiff(command: Command): Command {
  return command
    .description('compare what two policies allow: connections added, removed and changed, with the rules responsible')
    .argument('<old>', 'the policy before (file or directory)')
    .argument('<new>', 'the policy after (file or directory)')
    .requiredOption('--inventory <file>', 'inventory of workloads')
    .option('--level <level>', REACH_LEVELS.join(' or '), 'service')
    .option('--format <format>', DIFF_FORMATS.join(' or '), 'text')
    .action((oldPath: string, newPath: string, options: DiffOptions) => runDiff(oldPath, newPath, options));
}

export function registerDiff(program: Command): void {
  defineDiff(program.command('diff'));
}
