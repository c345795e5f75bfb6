// `palisade lab up|down|status`: the shop built as network namespaces with real servers and
// traffic. Argument parsing and output only; the lab itself is in enforce/lab/.

import type { Command } from 'commander';
import { labDown, LabError, labStatus, labUp, SCENARIOS, type LabState, type Scenario } from '../enforce/lab/lab.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';

interface Options {
  scenario: string;
  state?: string;
}

function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s === name);
  if (found === undefined) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}, not "${name}"`);
  return found;
}

/** Runs a lab action; not being root is a usage error (exit 2), a lab that fails to build exit 1. */
async function guarded(action: () => Promise<number>): Promise<number> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof LabError && err.kind === 'not-root') throw new UsageError(err.message);
    if (err instanceof LabError) {
      process.stderr.write(`palisade: lab: ${err.message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  }
}

function printPods(state: LabState): void {
  const rows = state.pods.map((p) => [p.name, p.namespace, p.address, p.workload ?? `(${p.role})`]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const r of rows) process.stdout.write(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c)).join('  ')}\n`);
}

export const registerLab: RegisterCommand = (program: Command) => {
  const lab = program.command('lab').description('build an example application as network namespaces with real servers and traffic (needs root)');
  const common = (c: Command): Command =>
    c
      .option('--scenario <name>', `the example to build: ${SCENARIOS.join(', ')}`, 'shop')
      .option('--state <dir>', 'where the lab keeps its state, configuration and logs (default: $TMPDIR/palisade-lab)');
  common(lab.command('up').description('build the lab and start its servers and traffic; does nothing if it already runs')).action(
    async (opts: Options) =>
      setExitCode(
        await guarded(async () => {
          const { state, alreadyRunning } = await labUp({
            scenario: scenario(opts.scenario), stateDir: opts.state, log: (line) => process.stderr.write(`lab: ${line}\n`),
          });
          process.stdout.write(alreadyRunning ? `lab ${state.scenario} is already running (since ${state.startedAt}); nothing changed\n` : `lab ${state.scenario} is up\n`);
          printPods(state);
          process.stdout.write(`bridge ${state.bridge} in ${state.nodeNamespace}; capture there to see all traffic\n`);
          process.stdout.write(`inventory: ${state.inventory}\nlogs: ${state.stateDir}/logs\n`);
          return EXIT_OK;
        }),
      ),
  );
  common(lab.command('down').description('stop the lab\'s processes and remove its namespaces, links and bridge')).action(async (opts: Options) =>
    setExitCode(
      await guarded(async () => {
        scenario(opts.scenario);
        const { wasBuilt } = await labDown({ stateDir: opts.state });
        process.stdout.write(wasBuilt ? 'lab is down\n' : 'no lab was running\n');
        return EXIT_OK;
      }),
    ),
  );
  common(lab.command('status').description('show the lab\'s pods and whether its processes run (exit 1 when something is missing)')).action(
    async (opts: Options) =>
      setExitCode(
        await guarded(async () => {
          scenario(opts.scenario);
          const status = labStatus({ stateDir: opts.state });
          if (!status.built || status.state === undefined) {
            process.stdout.write('no lab is running\n');
            return EXIT_FAILED;
          }
          process.stdout.write(`lab ${status.state.scenario} since ${status.state.startedAt}: ${status.healthy ? 'running' : 'DEGRADED'}\n`);
          printPods(status.state);
          for (const n of status.namespaces.filter((x) => !x.exists)) process.stdout.write(`  missing namespace ${n.namespace}\n`);
          for (const { process: p, running } of status.processes) {
            process.stdout.write(`  ${running ? 'running' : 'STOPPED'}  ${p.name.padEnd(16)} pid ${String(p.pid).padEnd(8)} in ${p.pod}\n`);
          }
          process.stdout.write(`inventory: ${status.state.inventory}\n`);
          return status.healthy ? EXIT_OK : EXIT_FAILED;
        }),
      ),
  );
};
