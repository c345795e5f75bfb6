// `palisade agent --policy P --inventory I`: the node agent. Applies the node's nftables table and
// keeps it current (file changes, SIGHUP); violations are printed as JSON lines on stdout,
// operator messages on stderr. SIGTERM or SIGINT stops it according to --fail.

import type { Command } from 'commander';
import { applyOnce, InvalidInput, startAgent, type AgentOptions, type FailMode } from '../enforce/agent.js';
import { NftError } from '../enforce/nft/apply.js';
import { LiveCaptureError } from '../packet/live.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';

interface Options {
  policy: string[];
  inventory: string;
  node?: string;
  netns?: string;
  fail: string;
  once?: boolean;
}

const FAIL_MODES: readonly FailMode[] = ['open', 'closed'];

export const registerAgent: RegisterCommand = (program: Command) => {
  program
    .command('agent')
    .description('enforce the policy on this node with nftables and report violations as JSON lines')
    .requiredOption('--policy <paths...>', 'policy files or directories')
    .requiredOption('--inventory <file>', 'workload inventory')
    .option('--node <name>', 'enforce the perimeters of the workloads on this node only (default: all workloads)')
    .option('--netns <name>', 'network namespace of the node (ip netns name; default: this one)')
    .option('--fail <mode>', 'when the agent is gone: open removes the table, closed keeps it in force', 'closed')
    .option('--once', 'apply the ruleset and exit, leaving it in force')
    .action(async (opts: Options) => setExitCode(await runAgent(opts)));
};

const say = (line: string): void => void process.stderr.write(`palisade agent: ${line}\n`);

async function runAgent(opts: Options): Promise<number> {
  const fail = opts.fail as FailMode;
  if (!FAIL_MODES.includes(fail)) throw new UsageError(`--fail must be open or closed, not "${opts.fail}"`);
  if (opts.netns !== undefined && (opts.netns === '' || opts.netns.includes('/'))) throw new UsageError(`invalid network namespace name "${opts.netns}"`);
  const base: AgentOptions = {
    policyPaths: opts.policy,
    inventoryPath: opts.inventory,
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    fail,
    say,
    onViolation: (v) => void process.stdout.write(`${JSON.stringify(v)}\n`),
  };
  try {
    if (opts.once) {
      await applyOnce(base);
      return EXIT_OK;
    }
    const agent = await startAgent(base);
    say(`enforcing${opts.netns !== undefined ? ` in ${opts.netns}` : ''} (fail ${fail}); SIGHUP reloads`);
    const reload = (): void => void agent.reload();
    process.on('SIGHUP', reload);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.off('SIGHUP', reload);
    await agent.stop();
    return EXIT_OK;
  } catch (err) {
    if (err instanceof InvalidInput) {
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      say('the policy or inventory has errors: nothing applied');
      return EXIT_USAGE;
    }
    if (err instanceof LiveCaptureError) throw new UsageError(err.message);
    if (err instanceof NftError) {
      say(err.message);
      return EXIT_FAILED;
    }
    throw err;
  }
}
