// `palisade learn INPUT... --inventory I`: flows from captures, Flow JSON lines or Hubble exports
// → a proposed least-privilege policy with evidence as comments. Argument parsing and output
// only; the work is in learn/. The input helpers at the end serve `palisade map` too.

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DnsNames } from '../dpi/dns-names.js';
import { readFlowSource, SourceError } from '../dpi/sources.js';
import { loadInventory } from '../inventory/load.js';
import { Learner } from '../learn/learn.js';
import { formatDuration } from '../learn/propose.js';
import type { Flow } from '../model/flow.js';
import type { Policy } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import { formatDiagnostic, hasErrors } from '../policy/diagnostics.js';
import { loadPolicy } from '../policy/document/load.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_OK, UsageError } from './errors.js';

interface Options {
  inventory: string;
  output?: string;
  merge?: string;
  stableAfter: string;
}

export const registerLearn: RegisterCommand = (program: Command) => {
  program
    .command('learn')
    .description('propose a least-privilege policy from observed flows (pcap, pcapng, Flow JSON lines, Hubble JSON)')
    .argument('<input...>', 'captures, Flow JSON lines or `hubble observe -o json` output ("-" reads standard input)')
    .requiredOption('--inventory <file>', 'workload inventory (Palisade YAML/JSON or kubectl JSON)')
    .option('--output <file>', 'write the proposed policy here instead of standard output')
    .option('--merge <policy>', 'existing policy: keep its rules, add only what it lacks, report stale learned rules')
    .option('--stable-after <duration>', 'a service with no new connection for this long is ready to protect (e.g. 10m, 1h)', '10m')
    .action(async (inputs: string[], opts: Options) => setExitCode(await runLearn(inputs, opts)));
};

async function runLearn(inputs: string[], opts: Options): Promise<number> {
  const stableAfterMs = parseDuration(opts.stableAfter, '--stable-after');
  const inventory = await loadInventoryOrFail(opts.inventory);
  const existing = opts.merge === undefined ? undefined : await loadExistingPolicy(opts.merge);
  const dns = new DnsNames();
  const learner = new Learner(inventory, existing === undefined ? { stableAfterMs, dns } : { stableAfterMs, dns, existing });
  await readInputs(inputs, dns, (f) => learner.add(f));
  const result = learner.result();
  if (opts.output === undefined) process.stdout.write(result.text);
  else {
    try {
      await writeFile(opts.output, result.text);
    } catch (err) {
      throw new UsageError(`${opts.output}: cannot write: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const { graph, proposal } = result;
  const say = (s: string): boolean => process.stderr.write(`${s}\n`);
  say(`learned from ${graph.flows} flow(s): ${graph.peers.size} endpoint(s), ${graph.edges.length} edge(s), ${proposal.groups.length} group(s), ${proposal.rules.length} rule(s)`);
  if (graph.unattributed > 0) say(`${graph.unattributed} flow(s) had no known workload on either side`);
  if (graph.dropped > 0) say(`${graph.dropped} flow(s) dropped: too many distinct edges`);
  for (const g of proposal.groups) {
    if (g.stability === undefined) continue;
    const state = g.stability.stable ? 'ready to protect' : 'still learning';
    say(`${g.group.name}: ${state} (no new connection for ${formatDuration(g.stability.quietFor)})`);
  }
  if (existing !== undefined) say(`merge: ${result.covered} flow(s) already decided by ${opts.merge}`);
  for (const r of result.stale) say(`stale: learned rule "${r.id}" decided no observed flow`);
  return EXIT_OK;
}

// What `learn` and `map` share: the inventory, an existing policy, flow inputs of any kind with
// their skipped lines reported, and durations such as `10m`.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `1h30m`, `2d` → milliseconds. */
export function parseDuration(text: string, option: string): number {
  const parts = [...text.trim().matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) {
    throw new UsageError(`${option} "${text}" is not a duration: write e.g. 30s, 10m, 1h30m or 2d`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}

export async function loadInventoryOrFail(path: string): Promise<Inventory> {
  const { inventory, diagnostics } = await loadInventory(path);
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (hasErrors(diagnostics)) throw new UsageError(`${path}: the inventory has errors`);
  return inventory;
}

export async function loadExistingPolicy(path: string): Promise<Policy> {
  const { policy, diagnostics } = await loadPolicy([path]);
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (hasErrors(diagnostics)) throw new UsageError(`${path}: the policy has errors`);
  return policy;
}

/** Reads every input; malformed lines are reported and counted, an unreadable input is a usage error. */
export async function readInputs(inputs: readonly string[], dns: DnsNames, onFlow: (f: Flow) => void): Promise<void> {
  for (const input of inputs) {
    let shown = 0;
    try {
      const stats = await readFlowSource(input, onFlow, {
        dns,
        onProblem: (p) => {
          if (shown++ < 20) process.stderr.write(`${p.file}:${p.line}: skipped: ${p.message}\n`);
        },
      });
      if (stats.skipped > 0) process.stderr.write(`${input}: ${stats.skipped} malformed line(s) skipped\n`);
      if (stats.kind === 'empty') process.stderr.write(`${input}: empty input\n`);
    } catch (err) {
      if (err instanceof SourceError) throw new UsageError(err.message);
      throw err;
    }
  }
}
