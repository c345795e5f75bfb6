// `palisade analyze`: questions about what a policy allows, answered before anything is enforced.
// `analyze reach` lists which workloads may reach which, on which protocols and ports; the policy
// it reads is chosen by an input option (today `--k8s DIR`, Kubernetes NetworkPolicies).

import type { Command } from 'commander';
import { setExitCode } from './commands.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { readCluster } from '../export/kubernetes/cluster.js';
import { CONNLIST_FORMATS, formatReach, type ConnlistFormat } from '../export/kubernetes/connlist.js';
import { formatProblem, type Problem } from '../export/kubernetes/problems.js';
import { computeReach, type Reach } from '../export/kubernetes/reach.js';

/** The inputs a reach question can be asked about, one option each; exactly one is given per run. */
type ReachInput = 'k8s';

type ReachOptions = Partial<Record<ReachInput, string>> & { format: string };

const REACH_INPUTS: Record<ReachInput, (value: string) => { reach?: Reach[]; problems: Problem[] }> = {
  k8s: (dir) => {
    const { cluster, problems } = readCluster(dir);
    return cluster === undefined ? { problems } : { reach: computeReach(cluster), problems };
  },
};

function parseFormat(value: string): ConnlistFormat {
  if (!(CONNLIST_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`analyze reach: unknown --format ${JSON.stringify(value)} (expected ${CONNLIST_FORMATS.join(' or ')})`);
  }
  return value as ConnlistFormat;
}

function runReach(options: ReachOptions): void {
  const format = parseFormat(options.format);
  const inputs = Object.keys(REACH_INPUTS) as ReachInput[];
  const given = inputs.filter((input) => options[input] !== undefined);
  const input = given[0];
  if (input === undefined || given.length > 1) {
    throw new UsageError(`analyze reach: give exactly one input: ${inputs.map((i) => `--${i}`).join(', ')}`);
  }
  const { reach, problems } = REACH_INPUTS[input](options[input] as string);
  for (const p of problems) process.stderr.write(`palisade: ${formatProblem(p)}\n`);
  if (reach === undefined) {
    setExitCode(EXIT_USAGE);
    return;
  }
  const text = formatReach(reach, format);
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  setExitCode(EXIT_OK);
}

export function registerAnalyze(program: Command): void {
  const analyze = program.command('analyze').description('Answer questions about what a policy allows, before it is enforced.');
  analyze
    .command('reach')
    .description('List which workloads may reach which, and on which protocols and ports.')
    .option('--k8s <dir>', 'Kubernetes manifests (workloads, namespaces, NetworkPolicies) under this directory')
    .option('--format <format>', `output format: ${CONNLIST_FORMATS.join(', ')}`, 'connlist')
    .action((options: ReachOptions) => runReach(options));
}
