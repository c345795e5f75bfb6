// The lab's network: one "node" namespace holding a bridge, one namespace per pod joined to it by
// a veth pair. Everything here is created inside pal- namespaces and addressed in 10.200.0.0/16,
// so nothing of the machine's own network is touched; removal takes the namespaces and all in them.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The namespace that holds the bridge; later the node agent and its nftables live here. */
export const NODE_NAMESPACE = 'pal-node';
export const BRIDGE = 'br0';
/** The bridge's own address: the pods' gateway, and the node's address on the lab network. */
export const BRIDGE_ADDRESS = '10.200.0.1';
export const LAB_PREFIX = 16;

export interface PodLink {
  namespace: string;
  /** The veth end on the bridge, as named inside the node namespace. */
  port: string;
  address: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const LAB_ADDRESS = /^10\.200\.(\d{1,3})\.(\d{1,3})$/;

/** Safety: lab traffic never leaves 10.200.0.0/16, and every lab namespace is a pal- one. */
export function checkLabAddress(address: string): void {
  const m = LAB_ADDRESS.exec(address);
  if (m === null || Number(m[1]) > 255 || Number(m[2]) > 255) throw new Error(`lab address ${address} is not in 10.200.0.0/16`);
}

export function namespaceExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

/** Runs `ip` with these arguments; a failure carries what ip said. */
export async function ip(args: readonly string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')}: ${stderr.trim() || String(err)}`);
  }
}

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...settings]);
}

// IPv4 only: no router solicitations or neighbour discovery in captures of the lab.
const NO_IPV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];

async function addNamespace(ns: string): Promise<void> {
  if (!ns.startsWith('pal-')) throw new Error(`lab namespace "${ns}" must start with pal-`);
  await ip(['netns', 'add', ns]);
  await sysctl(ns, NO_IPV6);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

export async function createNodeNamespace(): Promise<void> {
  await addNamespace(NODE_NAMESPACE);
  await ip(['-n', NODE_NAMESPACE, 'link', 'add', BRIDGE, 'type', 'bridge']);
  await ip(['-n', NODE_NAMESPACE, 'addr', 'add', `${BRIDGE_ADDRESS}/${LAB_PREFIX}`, 'dev', BRIDGE]);
  await ip(['-n', NODE_NAMESPACE, 'link', 'set', BRIDGE, 'up']);
}

export async function createPod(link: PodLink): Promise<void> {
  checkLabAddress(link.address);
  await addNamespace(link.namespace);
  await ip(['-n', NODE_NAMESPACE, 'link', 'add', link.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', link.namespace]);
  await ip(['-n', NODE_NAMESPACE, 'link', 'set', link.port, 'master', BRIDGE, 'up']);
  await ip(['-n', link.namespace, 'addr', 'add', `${link.address}/${LAB_PREFIX}`, 'dev', 'eth0']);
  await ip(['-n', link.namespace, 'link', 'set', 'eth0', 'up']);
  // Every lab address is on-link; the default route only sends anything else to the node, which
  // routes nowhere, so no pod can reach beyond the lab.
  await ip(['-n', link.namespace, 'route', 'add', 'default', 'via', BRIDGE_ADDRESS]);
}

export function namespacePids(ns: string): number[] {
  if (!namespaceExists(ns)) return [];
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Removes a lab namespace and whatever still runs in it. Only the lab starts processes in its own
 * namespaces (servers fork workers, postgres forks backends, rabbitmq starts epmd), so whatever is
 * left there after the tracked processes stopped is theirs. The veth pair goes with the namespace.
 */
export function removeNamespace(ns: string): void {
  if (!ns.startsWith('pal-') || !namespaceExists(ns)) return;
  for (const pid of namespacePids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // still busy: it goes when its last process does
  }
}

/** Runs a command to completion inside a namespace; a non-zero exit is a result, not an error. */
export async function runIn(ns: string, command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', ns, command, ...args], {
      timeout: options.timeoutMs ?? 30_000,
      env: options.env ?? process.env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof e.code === 'number') return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    if (e.killed === true) return { code: 124, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}timed out` };
    throw err;
  }
}

/**
 * Starts a long-running process inside a namespace, in its own session so that it outlives the
 * command that started it; its output goes to logFile. `ip netns exec` execs the command, so the
 * PID returned is the server's own.
 */
export function spawnIn(ns: string, command: string, args: readonly string[], options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): number {
  const out = openSync(options.logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${command} in ${ns}`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Whether something listens on a TCP or UDP port inside a namespace. */
export async function listening(ns: string, proto: 'tcp' | 'udp', port: number): Promise<boolean> {
  const r = await runIn(ns, 'ss', [proto === 'tcp' ? '-Hltn' : '-Hlun', `sport = :${port}`], { timeoutMs: 5000 });
  return r.code === 0 && r.stdout.trim() !== '';
}
