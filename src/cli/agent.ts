// `palisade agent --policy P --inventory I`: the node agent. Applies the node's nftables table and
// keeps it current (file changes, SIGHUP); violations are printed as JSON lines on stdout and, with
// --events, aggregated into events for the configured sinks (file, syslog, webhook); operator
// messages go to stderr. SIGTERM or SIGINT stops it according to --fail.

import { readFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type { Flow } from '../model/flow.js';
import type { Command } from 'commander';
import { applyOnce, InvalidInput, startAgent, type AgentOptions, type FailMode } from '../enforce/agent.js';
import { NftError } from '../enforce/nft/apply.js';
import { DEFAULT_PROXY_PORT } from '../enforce/proxy/host.js';
import { eventOfViolation, workloadLookup } from '../enforce/violations.js';
import { EventsConfigError, openEvents, readEventsConfig, type EventPipeline } from '../events/index.js';
import { loadInventory } from '../inventory/load.js';
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
  events?: string;
  l7Proxy: boolean;
  l7ProxyPort: string;
  tap?: string;
  flows?: string;
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
    .option('--l7-proxy-port <port>', 'port of the inline L7 proxy that decides rules naming applications where a side is in protect', String(DEFAULT_PROXY_PORT))
    .option('--no-l7-proxy', 'no L7 proxy: rules naming applications do not match where a side is in protect')
    .option('--tap <interface>', 'passive tap: capture on this interface (e.g. the pod bridge) to identify and decide sessions without a protect side; their violations are reported with the application')
    .option('--flows <file>', 'with --tap: append every flow the tap sees as a Flow JSON line (input for palisade learn)')
    .option('--events <file>', 'events configuration (YAML: window, rateLimit, sinks of type jsonl, syslog or webhook): violations also go there, aggregated')
    .action(async (opts: Options) => setExitCode(await runAgent(opts)));
};

const say = (line: string): void => void process.stderr.write(`palisade agent: ${line}\n`);

async function runAgent(opts: Options): Promise<number> {
  const fail = opts.fail as FailMode;
  if (!FAIL_MODES.includes(fail)) throw new UsageError(`--fail must be open or closed, not "${opts.fail}"`);
  if (opts.netns !== undefined && (opts.netns === '' || opts.netns.includes('/'))) throw new UsageError(`invalid network namespace name "${opts.netns}"`);
  const proxyPort = Number(opts.l7ProxyPort);
  if (opts.l7Proxy && (!/^\d+$/.test(opts.l7ProxyPort) || proxyPort < 1 || proxyPort > 65535)) throw new UsageError(`--l7-proxy-port must be a port number from 1 to 65535, not "${opts.l7ProxyPort}"`);
  if (opts.flows !== undefined && opts.tap === undefined) throw new UsageError('--flows needs --tap: the flows come from the passive tap');
  if (opts.tap !== undefined && !/^[A-Za-z0-9._-]{1,15}$/.test(opts.tap)) throw new UsageError(`--tap: invalid interface name "${opts.tap}"`);
  const events = opts.events === undefined || opts.once ? undefined : await openEventsOption(opts.events, opts.inventory);
  const flows = opts.flows === undefined || opts.once ? undefined : createWriteStream(opts.flows, { flags: 'a' });
  if (flows !== undefined) {
    await new Promise<void>((resolve, reject) => {
      flows.once('open', () => resolve());
      flows.once('error', (err) => reject(new UsageError(`--flows ${opts.flows}: ${err.message}`)));
    });
  }
  const base: AgentOptions = {
    policyPaths: opts.policy,
    inventoryPath: opts.inventory,
    ...(opts.node !== undefined ? { node: opts.node } : {}),
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    fail,
    say,
    ...(opts.l7Proxy ? { l7Proxy: { port: proxyPort } } : {}),
    ...(opts.tap !== undefined ? { tap: { interface: opts.tap, ...(flows !== undefined ? { onFlow: (f: Flow) => void flows.write(`${JSON.stringify(f)}\n`) } : {}) } } : {}),
    onViolation: (v) => {
      process.stdout.write(`${JSON.stringify(v)}\n`);
      events?.pipeline.push(eventOfViolation(v, events.lookup));
    },
  };
  try {
    if (opts.once) {
      await applyOnce(base);
      return EXIT_OK;
    }
    const agent = await startAgent(base);
    const reload = (): void => void agent.reload({ force: true });
    const status = (): void => void agent.status().then((st) => say(`status ${JSON.stringify(st)}`));
    // Every handler is in place before "enforcing" is said: whoever waits for it may signal at once.
    process.on('SIGHUP', reload);
    process.on('SIGUSR1', status);
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    say(`enforcing${opts.netns !== undefined ? ` in ${opts.netns}` : ''} (fail ${fail}); SIGHUP reloads and replaces the table, SIGUSR1 prints counters`);
    await stopped;
    process.off('SIGHUP', reload);
    process.off('SIGUSR1', status);
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
  } finally {
    await events?.pipeline.close();
    if (flows !== undefined) await new Promise<void>((resolve) => flows.end(() => resolve()));
  }
}

/**
 * `--events FILE`: the event pipeline its configuration describes, and a lookup of the inventory's
 * workloads so events name them. A bad configuration is a usage error before anything is applied.
 */
async function openEventsOption(path: string, inventoryPath: string): Promise<{ pipeline: EventPipeline; lookup: ReturnType<typeof workloadLookup> }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--events ${path}: ${(err as Error).message}`);
  }
  let config;
  try {
    config = readEventsConfig(text, path);
  } catch (err) {
    if (err instanceof EventsConfigError) throw new UsageError(err.message);
    throw err;
  }
  const { inventory } = await loadInventory(inventoryPath);
  return { pipeline: openEvents(config, { onError: (e) => say(`events: ${e instanceof Error ? e.message : String(e)}`) }), lookup: workloadLookup(inventory) };
}
