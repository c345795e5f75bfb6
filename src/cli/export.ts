// `palisade export --to TARGET`: a Palisade policy as the manifests of another enforcer
// (Kubernetes NetworkPolicy, Cilium, Calico, Istio, NeuVector), with a report of what the target
// cannot express; `--verify` reads a NetworkPolicy export back and proves it allows exactly what
// the policy enforces on the inventory. The work happens in src/export.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { choice, loadAnalysisInputs } from './analyze.js';
import { setExitCode } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';
import { exportPolicy, InvalidManifestError } from '../export/export.js';
import { manifestsToYaml, writeManifestDir } from '../export/manifest.js';
import { formatLoss, TARGETS } from '../export/report.js';
import { formatDifference, verifyNetworkPolicies } from '../export/verify.js';
import { compile } from '../policy/compile.js';

interface ExportOptions {
  policy: string[];
  inventory: string;
  to: string;
  output?: string;
  report?: string;
  verify?: boolean;
}

const SINGLE_FILE = /\.(ya?ml|json)$/i;

async function runExport(options: ExportOptions): Promise<void> {
  const target = choice('export', '--to', options.to, TARGETS);
  if (options.verify === true && target !== 'networkpolicy') throw new UsageError('export: --verify works with --to networkpolicy only');
  const { policy, inventory } = await loadAnalysisInputs('export', options.policy, options.inventory);
  const compiled = compile(policy, inventory);
  let result;
  try {
    result = exportPolicy(target, policy, inventory, compiled);
  } catch (e) {
    // Nothing is written when a manifest fails its schema: a cluster must never get half an export.
    if (e instanceof InvalidManifestError) throw new UsageError(`export: ${e.message}`, EXIT_FAILED);
    throw e;
  }

  if (options.output === undefined) process.stdout.write(manifestsToYaml(result.manifests));
  else if (SINGLE_FILE.test(options.output)) writeFileSync(options.output, manifestsToYaml(result.manifests));
  else writeManifestDir(options.output, result.manifests);

  const report = result.losses.map((l) => `${formatLoss(l)}\n`).join('');
  const heading = `${result.losses.length} constraint${result.losses.length === 1 ? '' : 's'} of the policy cannot be expressed in ${target}${result.losses.length > 0 ? ':' : ''}\n`;
  if (options.report !== undefined) writeFileSync(options.report, heading + report);
  else process.stderr.write(heading + report);

  if (options.verify !== true) {
    setExitCode(EXIT_OK);
    return;
  }
  const { pairs, differences } = verifyNetworkPolicies(policy, inventory, compiled, result.manifests);
  if (differences.length === 0) {
    process.stderr.write(`verify: the NetworkPolicies allow exactly the policy's enforced L3/L4 connectivity (${pairs} pairs compared)\n`);
    setExitCode(EXIT_OK);
    return;
  }
  process.stderr.write(`verify: ${differences.length} of ${pairs} pairs differ:\n${differences.map((d) => `${formatDifference(d)}\n`).join('')}`);
  setExitCode(EXIT_FAILED);
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write a policy as another enforcer\'s manifests, with a report of what that target cannot express.')
    .requiredOption('--policy <paths...>', 'policy files or directories')
    .requiredOption('--inventory <file>', 'inventory of workloads')
    .requiredOption('--to <target>', TARGETS.join(', '))
    .option('--output <dir|file>', 'a directory (one file per object) or a .yaml file; default stdout')
    .option('--report <file>', 'write the report of what cannot be expressed here instead of stderr')
    .option('--verify', 'read the NetworkPolicies back and compare them with the policy on the inventory')
    .action((options: ExportOptions) => runExport(options));
}
