// `palisade export --to TARGET`: a Palisade policy as the manifests of another enforcer
// (Kubernetes NetworkPolicy, Cilium, Calico, Istio, NeuVector), with a report of what the target
// cannot express; `--verify` reads a NetworkPolicy export back and proves it allows exactly what
// the policy enforces on the inventory. `palisade import --from neuvector` reads NeuVector rules
// back into a Palisade policy document. The work happens in src/export.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { choice, loadAnalysisInputs } from './analyze.js';
import { setExitCode } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';
import { exportPolicy, InvalidManifestError } from '../export/export.js';
import { readManifestDir, readManifestText } from '../export/kubernetes/manifests.js';
import { formatProblem, hasErrors, type Problem } from '../export/kubernetes/problems.js';
import { readNeuVector } from '../export/neuvector-read.js';
import { manifestsToYaml, writeManifestDir } from '../export/manifest.js';
import { formatLoss, TARGETS } from '../export/report.js';
import { formatDifference, verifyNetworkPolicies } from '../export/verify.js';
import { compile } from '../policy/compile.js';
import { writePolicyText } from '../policy/document/write.js';

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

const IMPORT_SOURCES = ['neuvector'] as const;

interface ImportOptions {
  from: string;
  output?: string;
  name: string;
}

function runImport(path: string, options: ImportOptions): void {
  choice('import', '--from', options.from, IMPORT_SOURCES);
  const problems: Problem[] = [];
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`import: cannot read ${path}`);
  }
  const objects = isDir ? readManifestDir(path, problems) : readManifestText(path, readFileSync(path, 'utf8'), problems);
  const policy = readNeuVector(objects, problems);
  for (const p of problems) process.stderr.write(`palisade: ${formatProblem(p)}\n`);
  if (hasErrors(problems)) throw new UsageError(`import: ${path} has errors; nothing was imported`);
  const text = writePolicyText({
    name: options.name,
    header: [`Imported from NeuVector rules in ${path} by palisade import.`],
    groups: policy.groups.map((group) => ({ group })),
    rules: policy.rules.map((rule) => ({ rule })),
  });
  if (options.output === undefined) process.stdout.write(text);
  else writeFileSync(options.output, text);
  setExitCode(EXIT_OK);
}

export function registerExport(program: Command): void {
  program
    .command('import')
    .description('Read another enforcer\'s rules back as a Palisade policy document.')
    .argument('<path>', 'a manifest file or a directory of them')
    .requiredOption('--from <source>', IMPORT_SOURCES.join(', '))
    .option('--output <file>', 'write the policy document here; default stdout')
    .option('--name <name>', 'name of the policy document', 'imported')
    .action((path: string, options: ImportOptions) => runImport(path, options));
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
