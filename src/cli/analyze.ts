// `palisade analyze`: questions about what a policy allows, answered before anything is enforced.
// `analyze reach` lists which workloads may reach which, on which protocols and ports, from
// Kubernetes NetworkPolicies (`--k8s DIR`) or from a Palisade policy and inventory (`--policy`);
// `analyze exposure` ranks workloads by blast radius. The work happens in policy/analyze.

import type { Command } from 'commander';
import { setExitCode } from './commands.js';
import { EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { readCluster } from '../export/kubernetes/cluster.js';
import { CONNLIST_FORMATS, formatReach } from '../export/kubernetes/connlist.js';
import { formatProblem } from '../export/kubernetes/problems.js';
import { computeReach } from '../export/kubernetes/reach.js';
import { loadInventory } from '../inventory/load.js';
import type { Policy } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import { compile } from '../policy/compile.js';
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../policy/diagnostics.js';
import { loadPolicy } from '../policy/document/load.js';
import { analyzeExposure, EXPOSURE_FORMATS, formatExposure, parseWeight, DEFAULT_WEIGHTS, type SensitivityWeight } from '../policy/analyze/exposure.js';
import { analyzeReach, type Reachability } from '../policy/analyze/reach.js';
import { formatReachEntries, reachEntries, REACH_FORMATS, REACH_LEVELS } from '../policy/analyze/report.js';

/** One of the listed values, or a usage error naming them all. */
export function choice<T extends string>(command: string, option: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw new UsageError(`${command}: unknown ${option} ${JSON.stringify(value)} (expected ${allowed.slice(0, -1).join(', ')}${allowed.length > 1 ? ' or ' : ''}${allowed[allowed.length - 1]})`);
  }
  return found;
}

/**
 * Loads a policy and an inventory for analysis. Errors in either are printed with file and line
 * and end the command with exit 2: an analysis of a policy that did not load would prove nothing.
 */
export async function loadAnalysisInputs(command: string, policyPaths: string[], inventoryPath: string): Promise<{ policy: Policy; inventory: Inventory }> {
  const { policy, diagnostics } = await loadPolicy(policyPaths);
  const inv = await loadInventory(inventoryPath);
  const all = sortDiagnostics([...diagnostics, ...inv.diagnostics]);
  const errors = all.filter((d) => d.severity === 'error');
  if (hasErrors(all)) {
    for (const d of errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
    throw new UsageError(`${command}: the policy or inventory has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was analysed`);
  }
  return { policy, inventory: inv.inventory };
}

export async function loadReachability(command: string, policyPaths: string[], inventoryPath: string): Promise<Reachability> {
  const { policy, inventory } = await loadAnalysisInputs(command, policyPaths, inventoryPath);
  return analyzeReach(policy, inventory, compile(policy, inventory));
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

interface ReachOptions {
  k8s?: string;
  policy?: string[];
  inventory?: string;
  level: string;
  format?: string;
}

function runK8s(dir: string, formatText: string): void {
  const format = choice('analyze reach', '--format', formatText, CONNLIST_FORMATS);
  const { cluster, problems } = readCluster(dir);
  for (const p of problems) process.stderr.write(`palisade: ${formatProblem(p)}\n`);
  if (cluster === undefined) {
    setExitCode(EXIT_USAGE);
    return;
  }
  write(formatReach(computeReach(cluster), format));
  setExitCode(EXIT_OK);
}

async function runReach(options: ReachOptions): Promise<void> {
  const given = [options.k8s !== undefined, options.policy !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('analyze reach: give exactly one input: --k8s DIR, or --policy PATH... with --inventory FILE');
  if (options.k8s !== undefined) return runK8s(options.k8s, options.format ?? 'connlist');
  const format = choice('analyze reach', '--format', options.format ?? 'text', REACH_FORMATS);
  const level = choice('analyze reach', '--level', options.level, REACH_LEVELS);
  if (options.inventory === undefined) throw new UsageError('analyze reach: --policy needs --inventory FILE');
  const reach = await loadReachability('analyze reach', options.policy as string[], options.inventory);
  write(formatReachEntries(reachEntries(reach, level), format));
  setExitCode(EXIT_OK);
}

interface ExposureOptions {
  policy: string[];
  inventory: string;
  weight?: string[];
  externalWeight: string;
  format: string;
  top?: string;
}

function count(option: string, text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`analyze exposure: ${option} must be a whole number, not ${JSON.stringify(text)}`);
  return n;
}

async function runExposure(options: ExposureOptions): Promise<void> {
  const format = choice('analyze exposure', '--format', options.format, EXPOSURE_FORMATS);
  const weights: SensitivityWeight[] = [...DEFAULT_WEIGHTS];
  for (const text of options.weight ?? []) {
    const w = parseWeight(text);
    if (typeof w === 'string') throw new UsageError(`analyze exposure: --weight ${JSON.stringify(text)}: ${w}`);
    // A weight given again for the same label replaces the default.
    const same = weights.findIndex((d) => d.key === w.key && d.value === w.value);
    if (same >= 0) weights.splice(same, 1);
    weights.push(w);
  }
  const externalWeight = count('--external-weight', options.externalWeight);
  const top = options.top === undefined ? undefined : count('--top', options.top);
  const { policy, inventory } = await loadAnalysisInputs('analyze exposure', options.policy, options.inventory);
  const reach = analyzeReach(policy, inventory, compile(policy, inventory));
  const report = analyzeExposure(reach, { weights, externalWeight }, inventory);
  write(formatExposure(top === undefined ? report : report.slice(0, top), format));
  setExitCode(EXIT_OK);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function registerAnalyze(program: Command): void {
  const analyze = program.command('analyze').description('answer questions about what a policy allows, before it is enforced');
  analyze
    .command('reach')
    .description('list which workloads may reach which, and on which protocols, ports and applications')
    .option('--k8s <dir>', 'Kubernetes manifests (workloads, namespaces, NetworkPolicies) under this directory')
    .option('--policy <paths...>', 'Palisade policy files or directories')
    .option('--inventory <file>', 'inventory of workloads (with --policy)')
    .option('--level <level>', `with --policy: ${REACH_LEVELS.join(' or ')}`, 'workload')
    .option('--format <format>', `with --k8s: ${CONNLIST_FORMATS.join(', ')} (default connlist); with --policy: ${REACH_FORMATS.join(', ')} (default text)`)
    .action((options: ReachOptions) => runReach(options));
  analyze
    .command('exposure')
    .description('rank workloads by blast radius: what each can reach directly and transitively, and who can reach it')
    .requiredOption('--policy <paths...>', 'Palisade policy files or directories')
    .requiredOption('--inventory <file>', 'inventory of workloads')
    .option('--weight <label=value:n>', `sensitivity of workloads with a label (own or namespace's); repeatable; defaults ${DEFAULT_WEIGHTS.map((w) => `${w.key}=${w.value}:${w.weight}`).join(', ')}`, collect)
    .option('--external-weight <n>', 'how many workloads being reachable from external counts as', '100')
    .option('--top <n>', 'print only the n riskiest workloads')
    .option('--format <format>', EXPOSURE_FORMATS.join(' or '), 'text')
    .action((options: ExposureOptions) => runExposure(options));
}
