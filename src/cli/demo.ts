// `palisade demo [--learn-seconds N] [--keep]`: learn, protect and attack the shop lab in about a
// minute (needs root). Argument parsing and rendering only; the demo itself is enforce/demo.ts.

import type { Command } from 'commander';
import { DemoInterrupted, runDemo, type DemoStage, type DemoStep, type MapRow } from '../enforce/demo.js';
import { LabError } from '../enforce/lab/lab.js';
import { DEFAULT_LOG_PER_SECOND } from '../enforce/nft/ruleset.js';
import type { Event } from '../events/index.js';
import { setExitCode, type RegisterCommand } from './commands.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors.js';

interface Options {
  learnSeconds: string;
  keep?: boolean;
  state?: string;
}

export const registerDemo: RegisterCommand = (program: Command) => {
  program
    .command('demo')
    .description('build the shop lab, learn its policy, enforce it in protect and attack it while customers shop (needs root)')
    .option('--learn-seconds <n>', 'how long to capture normal traffic before learning', '20')
    .option('--keep', 'leave the lab running and the protect table in force afterwards')
    .option('--state <dir>', 'the lab\'s state directory (default: $TMPDIR/palisade-lab); the demo writes into its demo/ folder')
    .action(async (opts: Options) => setExitCode(await runDemoCommand(opts)));
};

const HEADINGS: Record<DemoStage, string> = {
  lab: '1. The shop lab',
  learn: '2. Learning from normal traffic',
  protect: '3. Protect: the learned policy enforced on the node',
  attack: '4. The attacker moves in',
  traffic: '5. Customers keep buying',
  events: '6. What security operations sees',
  teardown: '7. Teardown',
};

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

async function runDemoCommand(opts: Options): Promise<number> {
  const learnSeconds = Number(opts.learnSeconds);
  if (!Number.isInteger(learnSeconds) || learnSeconds < 1 || learnSeconds > 3600) {
    throw new UsageError(`--learn-seconds must be a whole number of seconds from 1 to 3600, not "${opts.learnSeconds}"`);
  }
  if (process.getuid?.() !== 0) throw new UsageError('the demo needs root (it builds network namespaces and loads nftables); run it with sudo');
  const abort = new AbortController();
  const stop = (): void => {
    out('interrupted: stopping and tearing down');
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await runDemo({ learnSeconds, keep: opts.keep === true, ...(opts.state !== undefined ? { stateDir: opts.state } : {}), signal: abort.signal, report: render });
    return summary.ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    if (err instanceof DemoInterrupted) return EXIT_FAILED;
    if (err instanceof LabError && err.kind === 'not-root') throw new UsageError(err.message);
    process.stderr.write(`palisade: demo: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function render(step: DemoStep): void {
  switch (step.kind) {
    case 'stage':
      out();
      out(`== ${HEADINGS[step.stage]} ==`);
      return;
    case 'progress':
      out(`  ${step.text}`);
      return;
    case 'agent':
      out(`  agent: ${step.text}`);
      return;
    case 'lab': {
      const { state, reused } = step;
      out(`  ${reused ? 'reusing the running lab' : 'lab is up'}: ${state.pods.length} pods on ${state.bridge} in ${state.nodeNamespace}`);
      for (const p of state.pods) out(`    ${p.name.padEnd(10)} ${p.address.padEnd(12)} ${p.workload ?? `(${p.role}, in no inventory)`}`);
      return;
    }
    case 'learned': {
      const l = step.learned;
      out(`  ${l.flows} flows captured (${l.capture})`);
      out('  service map:');
      table(l.map);
      out(`  proposed policy: ${l.learnedPath} (${l.rules} rules)`);
      out(`  enforced policy: ${l.protectPath}`);
      out(`  in protect: ${l.protectedGroups.join(', ')}`);
      return;
    }
    case 'attempt':
      out(`  ${step.outcome === 'blocked' ? 'BLOCKED ' : step.outcome.toUpperCase().padEnd(8)} ${step.step.name}: ${step.step.from} → ${step.step.to}:${step.step.port}`);
      return;
    case 'scan': {
      const { scan } = step;
      const r = scan.result;
      out(`  port scan ${scan.from} → ${scan.to} tcp/${scan.first}-${scan.last}: ${r.filtered.length} filtered, ${r.open.length} open, ${r.refused.length} refused`);
      return;
    }
    case 'checkout': {
      const r = step.result;
      const detail = r.order !== undefined ? ` order ${r.order}, payment ${r.payment ?? 'unknown'}` : '';
      out(`  checkout: HTTP ${r.status === 0 ? 'no answer' : r.status}${detail}`);
      return;
    }
    case 'visits':
      out(`  the lab's customers meanwhile (${step.visits.length} visits: home, catalogue, checkout):`);
      for (const v of step.visits) out(`    ${v}`);
      return;
    case 'event':
      out(`  event: ${eventLine(step.event)}`);
      return;
    case 'summary': {
      const s = step.summary;
      out();
      out(`  ${s.blocked}/${s.attempts} lateral attempts blocked; ${s.checkoutsOk}/${s.checkouts} checkouts succeeded; ${s.visitsOk}/${s.visits} customer visits answered 200`);
      out(`  ${s.violations} reports (kernel and L7 proxy) became ${s.events} events (${s.eventsFile})`);
      out(`  (the kernel logs at most ${DEFAULT_LOG_PER_SECOND} drops a second per rule, so a scan is sampled; every drop is still blocked)`);
      out(`  ${s.ok ? 'the application kept working while the attacks were blocked' : 'NOT AS EXPECTED: see above'}`);
      return;
    }
  }
}

function table(rows: readonly MapRow[]): void {
  const cells = rows.map((r) => [r.from, '→', r.to, r.ports.join(','), r.applications.join(',') || '-', `${r.flows} flows`]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...cells.map((c) => (c[i] as string).length)));
  for (const c of cells) out(`    ${c.map((x, i) => (i < 5 ? x.padEnd(widths[i] as number) : x)).join('  ')}`);
}

function endpoint(e: Event['client']): string {
  const who = e.workload !== undefined ? e.workload : 'outside the inventory';
  return `${who} (${e.ip})`;
}

function eventLine(e: Event): string {
  const ports = e.serverPorts !== undefined ? `${e.serverPorts.ports.length}${e.serverPorts.truncated ? '+' : ''} ports` : `${e.ipProto}/${e.server.port}`;
  const times = e.count > 1 ? `, ${e.count} attempts` : '';
  // The L7 proxy identified what was spoken; the kernel only sees addresses and ports.
  const app = e.appConfidence === 'dpi' ? ` speaking ${e.app} (identified by the L7 proxy)` : '';
  return `${e.action.toUpperCase()} ${endpoint(e.client)} → ${endpoint(e.server)} ${ports}${app}${times}; ${e.reason} [${e.mode}]`;
}
