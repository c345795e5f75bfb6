// `palisade replay --policy P --inventory I INPUT...`: runs recorded traffic against a candidate
// policy (policy/analyze/replay.ts) and says what it would block or alert on, per service pair,
// or per flow as JSON lines.

import type { Command } from 'commander';
import { choice, loadAnalysisInputs } from './analyze.js';
import { setExitCode } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';
import { DnsNames } from '../dpi/dns-names.js';
import { readFlowSource, SourceError } from '../dpi/sources.js';
import { AddressIndex } from '../inventory/attribute.js';
import { compile } from '../policy/compile.js';
import { formatReplaySummary, outcomeOf, Replay } from '../policy/analyze/replay.js';

const FORMATS = ['summary', 'jsonl', 'json'] as const;
const FAIL_ON = ['never', 'block', 'alert'] as const;

interface ReplayOptions {
  policy: string[];
  inventory: string;
  format: string;
  failOn: string;
}

async function runReplay(inputs: string[], options: ReplayOptions): Promise<void> {
  const format = choice('replay', '--format', options.format, FORMATS);
  const failOn = choice('replay', '--fail-on', options.failOn, FAIL_ON);
  const { policy, inventory } = await loadAnalysisInputs('replay', options.policy, options.inventory);
  const dns = new DnsNames();
  const replay = new Replay(compile(policy, inventory), new AddressIndex(inventory), dns);
  let failed = false;
  for (const input of inputs) {
    try {
      await readFlowSource(
        input,
        (flow) => {
          const record = replay.add(flow);
          const outcome = outcomeOf(record.verdict);
          if ((failOn === 'block' && outcome === 'blocked') || (failOn === 'alert' && outcome !== 'allowed')) failed = true;
          if (format === 'jsonl') process.stdout.write(`${JSON.stringify(record)}\n`);
        },
        { dns, onProblem: (p) => process.stderr.write(`palisade: ${p.file}:${p.line}: skipped: ${p.message}\n`) },
      );
    } catch (err) {
      if (err instanceof SourceError) throw new UsageError(`replay: ${err.message}`);
      throw err;
    }
  }
  if (format === 'summary') process.stdout.write(formatReplaySummary(replay.summary()));
  else if (format === 'json') process.stdout.write(`${JSON.stringify(replay.summary(), null, 2)}\n`);
  setExitCode(failed ? EXIT_FAILED : EXIT_OK);
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('run recorded traffic (pcap, pcapng, Flow JSON lines, Hubble JSON) against a candidate policy')
    .argument('<inputs...>', 'recorded traffic; - reads standard input')
    .requiredOption('--policy <paths...>', 'the candidate policy (files or directories)')
    .requiredOption('--inventory <file>', 'inventory of workloads')
    .option('--format <format>', 'summary (per service pair), json (the same as JSON) or jsonl (a verdict per flow)', 'summary')
    .option('--fail-on <outcome>', 'exit 1 when a flow would be: block (blocked), alert (blocked or alerted), never', 'never')
    .action((inputs: string[], options: ReplayOptions) => runReplay(inputs, options));
}
