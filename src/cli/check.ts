// `palisade check --assert FILE`: proves a policy's assertions (policy/analyze/assertions.ts)
// for CI. Exit 0 when all hold, 1 when some fail, 2 when an input is bad.

import type { Command } from 'commander';
import { choice, loadAnalysisInputs } from './analyze.js';
import { setExitCode } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';
import { compile } from '../policy/compile.js';
import { formatDiagnostic, sortDiagnostics } from '../policy/diagnostics.js';
import { applicationCatalog } from '../policy/document/applications.js';
import { checkAssertions, loadAssertions } from '../policy/analyze/assertions.js';
import { CHECK_FORMATS, formatCheck } from '../policy/analyze/check-report.js';
import { analyzeReach } from '../policy/analyze/reach.js';

const VERSION = '0.1.0';

interface CheckOptions {
  assert: string;
  policy: string[];
  inventory: string;
  format: string;
}

async function runCheck(options: CheckOptions): Promise<void> {
  const format = choice('check', '--format', options.format, CHECK_FORMATS);
  const { policy, inventory } = await loadAnalysisInputs('check', options.policy, options.inventory);
  const compiled = compile(policy, inventory);
  const { assertions, diagnostics } = await loadAssertions(options.assert, compiled.groups, applicationCatalog());
  if (diagnostics.length > 0) {
    for (const d of sortDiagnostics(diagnostics)) process.stderr.write(`${formatDiagnostic(d)}\n`);
    throw new UsageError(`check: ${options.assert} has ${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}; nothing was checked`);
  }
  const results = checkAssertions(analyzeReach(policy, inventory, compiled), inventory, assertions);
  process.stdout.write(formatCheck(results, format, { baseDir: process.cwd(), version: VERSION }));
  setExitCode(results.every((r) => r.holds) ? EXIT_OK : EXIT_FAILED);
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('prove assertions about what a policy allows (exit 0 all hold, 1 some fail, 2 bad input)')
    .requiredOption('--assert <file>', 'assertion file (see examples/shop/assertions.yaml)')
    .requiredOption('--policy <paths...>', 'Palisade policy files or directories')
    .requiredOption('--inventory <file>', 'inventory of workloads')
    .option('--format <format>', CHECK_FORMATS.join(', '), 'text')
    .action((options: CheckOptions) => runCheck(options));
}
