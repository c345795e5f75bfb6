// The lab: a scenario (examples/shop) built as network namespaces with real servers and real
// traffic, for captures, demos and end-to-end tests of enforcement. What `up` built is written to
// a state directory (pods, tracked processes, the inventory), so `status` and `down` find it again.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readScenarioWorkloads, writeLabInventory } from '../../inventory/lab.js';
import {
  createNodeNamespace, createPod, listening, namespaceExists, NODE_NAMESPACE, removeNamespace, runIn, spawnIn, type CommandResult,
} from './netns.js';
import { isRunning, stopAll, track, type TrackedProcess } from './processes.js';
import { customerLoop, prepareShop, REPO_ROOT, seedShop, SHOP_INVENTORY, shopPods, type Pod, type Server } from './shop.js';

export const SCENARIOS = ['shop'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface LabOptions {
  scenario?: Scenario;
  /** Where the lab keeps its state, configuration and logs; see defaultStateDir(). */
  stateDir?: string;
  /** Progress lines, for a CLI to show. */
  log?: (line: string) => void;
}

export interface LabState {
  scenario: Scenario;
  stateDir: string;
  startedAt: string;
  /** The namespace holding the bridge the pods are joined to. */
  nodeNamespace: string;
  bridge: string;
  pods: Pod[];
  processes: TrackedProcess[];
  /** The inventory of what the lab built, loadable with loadInventory(). */
  inventory: string;
}

export interface LabUp {
  state: LabState;
  /** The lab was already running: nothing was changed. */
  alreadyRunning: boolean;
}

export interface LabStatus {
  /** No state: nothing was built, or it was taken down. */
  built: boolean;
  state?: LabState;
  namespaces: { namespace: string; exists: boolean }[];
  processes: { process: TrackedProcess; running: boolean }[];
  /** Every namespace exists and every process runs. */
  healthy: boolean;
}

export class LabError extends Error {
  constructor(message: string, readonly kind: 'not-root' | 'failed') {
    super(message);
    this.name = 'LabError';
  }
}

export const defaultStateDir = (): string => join(tmpdir(), 'palisade-lab');

const stateFile = (dir: string): string => join(dir, 'state.json');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabError('the lab needs root (it creates network namespaces); run it with sudo', 'not-root');
}

export function readState(stateDir = defaultStateDir()): LabState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

const labNamespaces = (state: Pick<LabState, 'pods'>): string[] => [...state.pods.map((p) => p.namespace), NODE_NAMESPACE];

export function labStatus(opts: LabOptions = {}): LabStatus {
  const state = readState(opts.stateDir ?? defaultStateDir());
  if (state === undefined) return { built: false, namespaces: [], processes: [], healthy: false };
  const namespaces = labNamespaces(state).map((namespace) => ({ namespace, exists: namespaceExists(namespace) }));
  const processes = state.processes.map((process) => ({ process, running: isRunning(process) }));
  return { built: true, state, namespaces, processes, healthy: namespaces.every((n) => n.exists) && processes.every((p) => p.running) };
}

/** A pod of the running lab, by name (web, postgres, customer, attacker, ...). */
export function labPod(state: LabState, name: string): Pod {
  const pod = state.pods.find((p) => p.name === name);
  if (pod === undefined) throw new LabError(`the lab has no pod "${name}" (pods: ${state.pods.map((p) => p.name).join(', ')})`, 'failed');
  return pod;
}

/** Runs a command to completion inside a pod of the lab; a non-zero exit is a result. */
export function runInPod(state: LabState, pod: string, command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return runIn(labPod(state, pod).namespace, command, args, options);
}

/**
 * Starts a long-running process in a pod of the running lab (an attack, an agent, a capture) and
 * adds it to the lab's state, so that `lab down` ends it with the rest. Output goes to logs/NAME.log.
 */
export async function startInPod(opts: LabOptions, pod: string, name: string, command: string, args: readonly string[]): Promise<TrackedProcess> {
  requireRoot();
  const stateDir = opts.stateDir ?? defaultStateDir();
  const state = readState(stateDir);
  if (state === undefined) throw new LabError(`no lab runs with state in ${stateDir}`, 'failed');
  const pid = spawnIn(labPod(state, pod).namespace, command, args, { logFile: join(stateDir, 'logs', `${name}.log`), cwd: REPO_ROOT });
  const tracked = track(name, pod, pid);
  state.processes.push(tracked);
  await writeFile(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  return tracked;
}

async function waitListening(ns: string, server: Server, process: TrackedProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const logTail = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '');
  for (const { proto, port } of server.listen) {
    while (!(await listening(ns, proto, port))) {
      if (!isRunning(process)) throw new LabError(`${server.name} in ${server.pod} exited; its log (${logFile}) ends:\n${logTail()}`, 'failed');
      if (Date.now() > deadline) {
        throw new LabError(`${server.name} in ${server.pod} does not listen on ${proto}/${port} after ${timeoutMs / 1000} s; its log (${logFile}) ends:\n${logTail()}`, 'failed');
      }
      await sleep(200);
    }
  }
}

/** What the lab writes in its state directory besides logs; cleared by up and down, nothing else is. */
const LAB_FILES = ['postgres', 'redis', 'rabbitmq', 'nginx', 'tls', 'api.json', 'orders.json', 'payments.json', 'provider.json', 'dnsmasq.pid', 'inventory.yaml'];

async function clearLabFiles(stateDir: string): Promise<void> {
  for (const f of LAB_FILES) await rm(join(stateDir, f), { recursive: true, force: true });
}

/** Removes what a state describes (tracked processes first, then the namespaces), and the state. */
async function teardown(state: Pick<LabState, 'pods' | 'processes'>, stateDir: string): Promise<void> {
  await stopAll(state.processes);
  for (const ns of labNamespaces(state)) removeNamespace(ns);
  await clearLabFiles(stateDir);
  await rm(stateFile(stateDir), { force: true });
}

/**
 * Builds the scenario, or finds it running. A lab found half-built (a namespace gone, a server
 * dead) is taken down and built again. On failure everything built so far is removed.
 */
export async function labUp(opts: LabOptions = {}): Promise<LabUp> {
  requireRoot();
  const scenario = opts.scenario ?? 'shop';
  const stateDir = opts.stateDir ?? defaultStateDir();
  const log = opts.log ?? ((): void => undefined);
  const found = labStatus({ stateDir });
  if (found.built && found.healthy && found.state !== undefined) return { state: found.state, alreadyRunning: true };
  if (found.state !== undefined) {
    log('taking down the remains of an earlier lab');
    await teardown(found.state, stateDir);
  }

  const workloads = await readScenarioWorkloads(SHOP_INVENTORY);
  const pods = shopPods(workloads);
  const clash = [...pods.map((p) => p.namespace), NODE_NAMESPACE].filter(namespaceExists);
  if (clash.length > 0) {
    throw new LabError(`namespaces ${clash.join(', ')} exist but no lab state is in ${stateDir}: another lab (another --state?) runs; take it down first`, 'failed');
  }

  const state: LabState = {
    scenario, stateDir, startedAt: new Date().toISOString(), nodeNamespace: NODE_NAMESPACE, bridge: 'br0', pods, processes: [],
    inventory: join(stateDir, 'inventory.yaml'),
  };
  const logs = join(stateDir, 'logs');
  await clearLabFiles(stateDir);
  await rm(logs, { recursive: true, force: true });
  await mkdir(logs, { recursive: true });
  const save = (): Promise<void> => writeFile(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`);
  try {
    // The state is saved before anything is created, so a failed or interrupted `up` can be taken down.
    await save();
    log(`creating ${NODE_NAMESPACE} with bridge br0 and ${pods.length} pods`);
    await createNodeNamespace();
    for (const pod of pods) await createPod({ namespace: pod.namespace, port: `v-${pod.name}`, address: pod.address });
    log('preparing server configuration');
    const servers = await prepareShop(pods, stateDir);
    const start = async (server: Server): Promise<TrackedProcess> => {
      const logFile = join(logs, `${server.name}.log`);
      const pid = spawnIn(labPod(state, server.pod).namespace, server.command, server.args, { logFile, env: server.env, cwd: REPO_ROOT });
      const tracked = track(server.name, server.pod, pid, server.stopSignal);
      state.processes.push(tracked);
      await save();
      return tracked;
    };
    const started: TrackedProcess[] = [];
    for (const server of servers) started.push(await start(server));
    log(`waiting for ${servers.map((s) => s.name).join(', ')}`);
    await Promise.all(servers.map((s, i) => waitListening(labPod(state, s.pod).namespace, s, started[i] as TrackedProcess, join(logs, `${s.name}.log`), 60_000)));
    await seedShop(pods, stateDir);
    await start(customerLoop(pods));
    await writeLabInventory(SHOP_INVENTORY, workloads, state.inventory);
    await save();
    return { state, alreadyRunning: false };
  } catch (err) {
    await teardown(state, stateDir);
    throw err instanceof LabError ? err : new LabError(err instanceof Error ? err.message : String(err), 'failed');
  }
}

/** Ends the lab's processes and removes its namespaces (and with them every veth and the bridge). */
export async function labDown(opts: LabOptions = {}): Promise<{ wasBuilt: boolean }> {
  requireRoot();
  const stateDir = opts.stateDir ?? defaultStateDir();
  const state = readState(stateDir);
  if (state === undefined) return { wasBuilt: false };
  await teardown(state, stateDir);
  return { wasBuilt: true };
}
