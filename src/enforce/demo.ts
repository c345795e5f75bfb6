// `palisade demo`: the whole product on one host in about a minute. The shop lab runs with real
// traffic; a capture on the node's bridge is learned into a policy; the policy is enforced in
// protect by the node agent; an intruder moves laterally and scans while customers keep buying;
// the kernel's drops come out of the event pipeline as a few aggregated events. The CLI
// (cli/demo.ts) only renders the steps this module reports.

import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { DnsNames } from '../dpi/dns-names.js';
import { readFlowSource } from '../dpi/sources.js';
import { EventPipeline, JsonLinesSink, type Event, type EventSink } from '../events/index.js';
import { loadInventory } from '../inventory/load.js';
import { Learner, type LearnResult } from '../learn/learn.js';
import type { Group, Selector } from '../model/policy.js';
import type { Inventory } from '../model/workload.js';
import { formatDiagnostic, hasErrors } from '../policy/diagnostics.js';
import { writePolicyText } from '../policy/document/write.js';
import { startLiveCapture } from '../packet/live.js';
import { startAgent, type Agent } from './agent.js';
import { DEFAULT_PROXY_PORT } from './proxy/host.js';
import { attempt, LATERAL_MOVEMENT, portScan, type AttackStep, type AttemptOutcome, type ScanResult } from './attacker.js';
import { labDown, LabError, labUp, runInPod, labPod, type LabState } from './lab/lab.js';
import { eventOfViolation, workloadLookup } from './violations.js';

/** One edge of the learned service map, by the group names the policy uses. */
export interface MapRow {
  from: string;
  to: string;
  ports: string[];
  /** Applications DPI identified on the edge. */
  applications: string[];
  flows: number;
}

export interface LearnedPolicy {
  /** The capture learned from. */
  capture: string;
  flows: number;
  map: MapRow[];
  /** The policy as `palisade learn` proposes it, for review. */
  learnedPath: string;
  /** The same groups and rules, every service group in protect, in the kernel's terms. */
  protectPath: string;
  protectedGroups: string[];
  rules: number;
}

/**
 * Captures on the lab's bridge for `seconds`, learns from the capture and writes two policies into
 * `dir`: learned.yaml as proposed, and protect.yaml, the one enforced.
 *
 * protect.yaml differs from the proposal only where enforcement needs it (enforce/nft/ruleset.ts):
 * rules naming applications keep them, and the agent's L7 proxy decides those connections by what
 * they speak; over UDP the proxy takes only destinations it can list one by one, so a UDP rule to
 * addresses outside the inventory keeps its ports and lists the applications seen in a note; an
 * fqdn group is resolved through the DNS answers seen on the wire, so it also selects those
 * addresses.
 */
export async function learnFromLab(state: LabState, seconds: number, dir: string, signal?: AbortSignal): Promise<LearnedPolicy> {
  await mkdir(dir, { recursive: true });
  const capturePath = join(dir, 'learn.pcap');
  const capture = await startLiveCapture({ interface: state.bridge, netns: state.nodeNamespace });
  try {
    const written = streamPipeline(capture.pcap, createWriteStream(capturePath));
    await pause(seconds * 1000, signal);
    await capture.stop();
    await written;
  } finally {
    await capture.stop();
  }
  interrupted(signal);

  const inventory = await labInventory(state);
  const dns = new DnsNames();
  // Everything seen in the window is stable enough: the demo protects what it learned.
  const learner = new Learner(inventory, { stableAfterMs: seconds * 1000, dns, name: 'demo-learned' });
  await readFlowSource(capturePath, (f) => learner.add(f), { dns });
  const result = learner.result();
  const learnedPath = join(dir, 'learned.yaml');
  const protectPath = join(dir, 'protect.yaml');
  await writeFile(learnedPath, result.text);
  const protect = protectText(result);
  await writeFile(protectPath, protect.text);
  return {
    capture: capturePath, flows: result.graph.flows, map: mapRows(result), learnedPath, protectPath,
    protectedGroups: protect.protectedGroups, rules: result.proposal.rules.length,
  };
}

function mapRows(result: LearnResult): MapRow[] {
  const { graph, proposal } = result;
  const name = (key: string): string => proposal.groupOf.get(key) ?? graph.peers.get(key)?.name ?? key;
  return graph.edges
    .map((e) => {
      const uses = [...e.ports.values()];
      return {
        from: name(e.from), to: name(e.to), flows: e.flows,
        ports: [...new Set(uses.map((u) => `${u.proto}/${u.port}`))].sort(),
        applications: [...new Set(uses.flatMap((u) => [...u.apps.keys()]))].sort(),
      };
    })
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

function protectText(result: LearnResult): { text: string; protectedGroups: string[] } {
  const { graph, proposal } = result;
  const protectedGroups: string[] = [];
  const groups = proposal.groups.map(({ group, notes, peer }) => {
    const p = graph.peers.get(peer);
    if (p?.kind === 'service') {
      protectedGroups.push(group.name);
      return { group: { ...group, mode: 'protect' as const }, notes };
    }
    if (p?.fqdn === undefined) return { group, notes };
    const pinned: Selector[] = p.members.map((ip) => ({ criteria: [{ kind: 'address', spec: ip }] }));
    const resolved: Group = { ...group, selectors: [...group.selectors, ...pinned] };
    return { group: resolved, notes: [...notes, `addresses pinned as answered during learning: ${p.members.join(', ')}`] };
  });
  // Over UDP the proxy stands in for destinations it can list one by one: workloads of a service.
  const serviceGroups = new Set(proposal.groups.filter(({ peer }) => graph.peers.get(peer)?.kind === 'service').map(({ group }) => group.name));
  const rules = proposal.rules.map(({ rule, notes }) => {
    const tcp = rule.ports.length === 0 || rule.ports.some((p) => p.proto === 'tcp' || p.proto === 'any');
    if (tcp || rule.applications.length === 0 || rule.to.every((g) => serviceGroups.has(g))) return { rule, notes };
    return { rule: { ...rule, applications: [] }, notes: [...notes, `applications seen: ${rule.applications.join(', ')} (enforced by ports: over UDP the L7 proxy takes only destinations it can list)`] };
  });
  const header = [
    'Enforced by palisade demo: the learned policy with every service in protect.',
    'Rules naming applications are decided by the L7 proxy from what each connection speaks;',
    'over UDP to addresses outside the inventory, by their ports; external names by the addresses',
    'DNS gave them while learning. learned.yaml beside it is the proposal.',
  ];
  return { text: writePolicyText({ name: 'demo-protect', header, mode: 'discover', groups, rules }), protectedGroups };
}

async function labInventory(state: LabState): Promise<Inventory> {
  const { inventory, diagnostics } = await loadInventory(state.inventory);
  if (hasErrors(diagnostics)) throw new LabError(`the lab's inventory has errors:\n${diagnostics.map(formatDiagnostic).join('\n')}`, 'failed');
  return inventory;
}

export interface CheckoutResult {
  /** HTTP status; 0 when no answer came. */
  status: number;
  order?: number;
  payment?: string;
}

/** One customer checkout through web → api → orders → postgres, redis, rabbitmq, payments → provider. */
export async function checkout(state: LabState, session: string): Promise<CheckoutResult> {
  const r = await runInPod(state, 'customer', 'curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', '-H', 'content-type: application/json',
    '--data', JSON.stringify({ session }), `http://${labPod(state, 'web').address}:8080/api/checkout`], { timeoutMs: 15_000 });
  const cut = r.stdout.lastIndexOf('\n');
  const status = Number(r.stdout.slice(cut + 1)) || 0;
  const out: CheckoutResult = { status };
  try {
    const body = JSON.parse(r.stdout.slice(0, cut)) as { order?: { id?: number; payment?: { charge?: { status?: string } } } };
    if (body.order?.id !== undefined) out.order = body.order.id;
    if (body.order?.payment?.charge?.status !== undefined) out.payment = body.order.payment.charge.status;
  } catch {
    // an error page or nothing: the status says enough
  }
  return out;
}

/**
 * The lines the lab's customer loop wrote since `from` (a byte offset of its log): one per visit,
 * `round N: <home> <catalogue> <checkout>` with the HTTP statuses, or the error that ended it.
 */
async function customerVisits(log: string, from: number): Promise<string[]> {
  const text = await readFile(log).then((b) => b.subarray(from).toString('utf8'), () => '');
  return text.split('\n').filter((l) => l.startsWith('round '));
}

const visitSucceeded = (line: string): boolean => /: 200 200 200$/.test(line);

export type DemoStage = 'lab' | 'learn' | 'protect' | 'attack' | 'traffic' | 'events' | 'teardown';

/** What the demo reports as it goes, for the CLI to render. */
export type DemoStep =
  | { kind: 'stage'; stage: DemoStage }
  | { kind: 'progress'; text: string }
  | { kind: 'lab'; state: LabState; reused: boolean }
  | { kind: 'learned'; learned: LearnedPolicy }
  | { kind: 'agent'; text: string }
  | { kind: 'attempt'; step: AttackStep; outcome: AttemptOutcome }
  | { kind: 'scan'; scan: ScanResult }
  | { kind: 'event'; event: Event }
  | { kind: 'checkout'; result: CheckoutResult }
  | { kind: 'visits'; visits: string[] }
  | { kind: 'summary'; summary: DemoSummary };

export interface DemoOptions {
  learnSeconds: number;
  /** Leave the lab running and the protect table in force afterwards. */
  keep: boolean;
  stateDir?: string;
  /** Ctrl-C: the demo stops at the next step and tears down. */
  signal?: AbortSignal;
  report: (step: DemoStep) => void;
}

export interface DemoSummary {
  attempts: number;
  blocked: number;
  checkouts: number;
  checkoutsOk: number;
  /** Visits of the lab's own customers while in protect, and those where every page answered 200. */
  visits: number;
  visitsOk: number;
  /** Kernel reports received, and the events the pipeline made of them. */
  violations: number;
  events: number;
  eventsFile: string;
  /** Every attack was blocked and every checkout succeeded. */
  ok: boolean;
}

export class DemoInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'DemoInterrupted';
  }
}

/** Customer checkouts made while the attack runs, to show the application still works. */
const CHECKOUTS = 3;

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const { report, signal } = opts;
  let state: LabState | undefined;
  let built = false;
  let agent: Agent | undefined;
  let events: EventPipeline | undefined;
  try {
    report({ kind: 'stage', stage: 'lab' });
    const up = await labUp({ ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}), log: (text) => report({ kind: 'progress', text }) });
    const lab = up.state;
    state = lab;
    built = !up.alreadyRunning;
    report({ kind: 'lab', state: lab, reused: up.alreadyRunning });
    interrupted(signal);

    report({ kind: 'stage', stage: 'learn' });
    report({ kind: 'progress', text: `capturing on ${lab.bridge} in ${lab.nodeNamespace} for ${opts.learnSeconds} s while customers shop` });
    const dir = join(lab.stateDir, 'demo');
    const learned = await learnFromLab(lab, opts.learnSeconds, dir, signal);
    report({ kind: 'learned', learned });

    report({ kind: 'stage', stage: 'protect' });
    const inventory = await labInventory(lab);
    const customersLog = join(lab.stateDir, 'logs', 'customers.log');
    const customersFrom = await stat(customersLog).then((st) => st.size, () => 0);
    const workloadOf = workloadLookup(inventory);
    const eventsFile = join(dir, 'events.jsonl');
    let violations = 0;
    let emitted = 0;
    const onScreen: EventSink = {
      write: (event) => {
        emitted++;
        report({ kind: 'event', event });
      },
      close: async () => undefined,
    };
    // The default aggregation window (10 s) outlasts the scan, so the scan leaves as one event.
    events = new EventPipeline({}, [new JsonLinesSink({ path: eventsFile }), onScreen]);
    const pipeline = events;
    agent = await startAgent({
      policyPaths: [learned.protectPath], inventoryPath: lab.inventory, netns: lab.nodeNamespace,
      l7Proxy: { port: DEFAULT_PROXY_PORT },
      // Kept: the table stays in force when the demo ends; otherwise it goes with the agent.
      fail: opts.keep ? 'closed' : 'open',
      say: (text) => report({ kind: 'agent', text }),
      onViolation: (v) => {
        violations++;
        pipeline.push(eventOfViolation(v, workloadOf));
      },
    });
    interrupted(signal);

    report({ kind: 'stage', stage: 'attack' });
    const outcomes = await Promise.all(LATERAL_MOVEMENT.map(async (step) => {
      const outcome = await attempt(lab, step);
      report({ kind: 'attempt', step, outcome });
      return outcome;
    }));
    interrupted(signal);
    // The scan comes last: its drops share the kernel's log rate limit with the attempts above.
    const scan = await portScan(lab, 'attacker', 'postgres');
    report({ kind: 'scan', scan });
    interrupted(signal);

    report({ kind: 'stage', stage: 'traffic' });
    const checkouts: CheckoutResult[] = [];
    for (let i = 1; i <= CHECKOUTS; i++) {
      const result = await checkout(lab, `demo-${i}`);
      checkouts.push(result);
      report({ kind: 'checkout', result });
    }
    const visits = await customerVisits(customersLog, customersFrom);
    report({ kind: 'visits', visits });

    report({ kind: 'stage', stage: 'events' });
    await events.close();
    const blocked = outcomes.filter((o) => o === 'blocked').length;
    const checkoutsOk = checkouts.filter((c) => c.status === 200).length;
    const summary: DemoSummary = {
      attempts: outcomes.length, blocked, checkouts: checkouts.length, checkoutsOk, violations, events: emitted, eventsFile,
      visits: visits.length, visitsOk: visits.filter(visitSucceeded).length,
      ok: blocked === outcomes.length && scan.result.open.length === 0 && checkoutsOk === checkouts.length && visits.every(visitSucceeded),
    };
    report({ kind: 'summary', summary });
    return summary;
  } finally {
    report({ kind: 'stage', stage: 'teardown' });
    await events?.close();
    if (agent !== undefined) await agent.stop();
    if (state !== undefined && built && !opts.keep) {
      await labDown({ stateDir: state.stateDir });
      report({ kind: 'progress', text: 'lab is down' });
    } else if (state !== undefined) {
      report({ kind: 'progress', text: `the lab stays up${opts.keep ? ' with the protect table in force' : ' (it ran before the demo)'}; palisade lab down removes it` });
    }
  }
}

function interrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new DemoInterrupted();
}

/** Waits, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
