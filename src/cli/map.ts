// `palisade map INPUT... --inventory I [--policy P] --format svg|dot|mermaid|json`: the service
// graph of observed flows, namespaces as clusters, edges coloured by what the policy decides.
// Argument parsing and output only; the work is in learn/.

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DnsNames } from '../dpi/dns-names.js';
import { GraphBuilder, type EdgeVerdict } from '../learn/graph.js';
import { connectionOf } from '../learn/learn.js';
import { mapDot, mapJson, mapMermaid, serviceMap } from '../learn/map.js';
import { mapSvg } from '../learn/svg.js';
import { compile } from '../policy/compile.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_OK, UsageError } from './errors.js';
import { loadExistingPolicy, loadInventoryOrFail, readInputs } from './learn.js';

type Format = 'svg' | 'dot' | 'mermaid' | 'json';
const FORMATS: readonly Format[] = ['svg', 'dot', 'mermaid', 'json'];

interface Options {
  inventory: string;
  policy?: string;
  format: string;
  output?: string;
}

export const registerMap: RegisterCommand = (program: Command) => {
  program
    .command('map')
    .description('draw the service graph of observed flows; with a policy, edges coloured by verdict')
    .argument('<input...>', 'captures, Flow JSON lines or `hubble observe -o json` output ("-" reads standard input)')
    .requiredOption('--inventory <file>', 'workload inventory (Palisade YAML/JSON or kubectl JSON)')
    .option('--policy <path>', 'policy files or directory: colour edges allowed, violation or blocked')
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, 'svg')
    .option('--output <file>', 'write here instead of standard output')
    .action(async (inputs: string[], opts: Options) => setExitCode(await runMap(inputs, opts)));
};

async function runMap(inputs: string[], opts: Options): Promise<number> {
  const format = opts.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${opts.format}"`);
  const inventory = await loadInventoryOrFail(opts.inventory);
  const policy = opts.policy === undefined ? undefined : await loadExistingPolicy(opts.policy);
  const compiled = policy === undefined ? undefined : compile(policy, inventory);
  const dns = new DnsNames();
  const builder = new GraphBuilder(inventory);
  await readInputs(inputs, dns, (f) => {
    if (compiled === undefined) return builder.add(f);
    const v = compiled.decide(connectionOf(f), dns);
    const verdict: EdgeVerdict = !v.allowed ? 'blocked' : v.violation ? 'violation' : 'allowed';
    builder.add(f, verdict);
  });
  const map = serviceMap(builder.graph(dns));
  const text = format === 'svg' ? mapSvg(map) : format === 'dot' ? mapDot(map) : format === 'mermaid' ? mapMermaid(map) : mapJson(map);
  if (opts.output === undefined) process.stdout.write(text);
  else {
    try {
      await writeFile(opts.output, text);
    } catch (err) {
      throw new UsageError(`${opts.output}: cannot write: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  process.stderr.write(`map: ${map.nodes.length} endpoint(s), ${map.edges.length} edge(s) in ${map.clusters.length} cluster(s)\n`);
  return EXIT_OK;
}
