// A throwaway network for end-to-end tests: pal- namespaces, one per host, each with an eth0 on a
// bridge that lives in its own namespace, addressed inside 10.200.0.0/16. Nothing is created in
// the machine's own namespace, and everything (namespaces, links, processes) goes on destroy().

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { ip, namespacePids } from '../../src/enforce/lab/netns.js';

const run = promisify(execFile);

export interface LabSpec {
  /** Short name: namespaces are pal-<name>-<host> and pal-<name>-br. */
  name: string;
  /** Host name → IPv4 address inside 10.200.0.0/16. */
  hosts: Record<string, string>;
  /** Prefix length of the one subnet all hosts share; 24 unless given. */
  prefix?: number;
  /**
   * An address for the bridge itself, the node's address on the lab network: what a local
   * process in the node namespace (the L7 proxy) is reached at and connects from.
   */
  nodeAddress?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Lab {
  /** The namespace of a host, for `ip netns exec` or startLiveCapture({ netns }). */
  namespace(host: string): string;
  /** The host's interface on the lab network, as named inside its namespace. */
  readonly interface: 'eth0';
  /** The "node" namespace holding the bridge every host hangs on, as on a container host. */
  readonly node: { readonly namespace: string; readonly bridge: 'br0' };
  address(host: string): string;
  /** Starts a long-running process in a host's namespace; destroy() stops it. */
  spawn(host: string, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command to completion in a host's namespace; a non-zero exit is a result, not an error. */
  run(host: string, command: string, args: readonly string[]): Promise<RunResult>;
  destroy(): Promise<void>;
}

/** Root, and the tools to build namespaces: the condition for e2e tests to run. */
export function labUnavailable(): false | string {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['/usr/sbin/ip', '/usr/bin/ip', '/sbin/ip', '/bin/ip']) {
    if (existsSync(tool)) return false;
  }
  return 'needs ip from iproute2';
}

/** In CI the e2e tests must run; elsewhere they may skip, saying why. */
export function skipReason(): false | string {
  const reason = labUnavailable();
  if (reason !== false && process.env.CI === 'true') throw new Error(`e2e tests cannot run in CI: ${reason}`);
  return reason;
}

/** How long destroy() lets spawned processes end on SIGTERM before killing them. */
const GRACE_MS = 5000;

const NAME = /^[a-z][a-z0-9]{0,9}$/;
const HOST = /^[a-z][a-z0-9]{0,7}$/;

function checkSpec(spec: LabSpec): void {
  if (!NAME.test(spec.name)) throw new Error(`lab name "${spec.name}": 1-10 lowercase letters and digits`);
  const prefix = spec.prefix ?? 24;
  if (!Number.isInteger(prefix) || prefix < 16 || prefix > 30) throw new Error(`lab prefix /${prefix}: from /16 to /30`);
  for (const [host, address] of Object.entries(spec.hosts)) {
    if (!HOST.test(host) || host === 'br') throw new Error(`lab host "${host}": 1-8 lowercase letters and digits, not "br"`);
    checkAddress(address, `of "${host}"`);
  }
  if (spec.nodeAddress !== undefined) checkAddress(spec.nodeAddress, 'of the node');
}

/** Safety: lab traffic never leaves 10.200.0.0/16. */
function checkAddress(address: string, what: string): void {
  const m = /^10\.200\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (m === null || Number(m[1]) > 255 || Number(m[2]) > 255) throw new Error(`lab address ${address} ${what} is not in 10.200.0.0/16`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Removes namespaces synchronously: every process inside them was started by the lab (they are
 * its own namespaces), so all are killed. Synchronous so that it can run from an 'exit' handler.
 */
function removeNamespaces(namespaces: readonly string[]): void {
  for (const ns of namespaces) {
    if (!existsSync(`/run/netns/${ns}`)) continue;
    for (const pid of namespacePids(ns)) signal(pid, 'SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // a namespace still busy goes when its last process does
    }
  }
}

export async function createLab(spec: LabSpec): Promise<Lab> {
  checkSpec(spec);
  const prefix = spec.prefix ?? 24;
  const bridgeNs = `pal-${spec.name}-br`;
  const hostNs = (host: string): string => {
    if (!(host in spec.hosts)) throw new Error(`lab ${spec.name} has no host "${host}"`);
    return `pal-${spec.name}-${host}`;
  };
  const all = [...Object.keys(spec.hosts).map(hostNs), bridgeNs];
  const children = new Set<ChildProcess>();

  const onExit = (): void => {
    for (const child of children) if (child.pid !== undefined) signal(child.pid, 'SIGKILL');
    removeNamespaces(all);
  };
  // Leftovers of a run that was killed before it could clean up carry the same names.
  removeNamespaces(all);
  process.once('exit', onExit);

  try {
    await ip(['netns', 'add', bridgeNs]);
    await ip(['-n', bridgeNs, 'link', 'set', 'lo', 'up']);
    await ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    if (spec.nodeAddress !== undefined) await ip(['-n', bridgeNs, 'addr', 'add', `${spec.nodeAddress}/${prefix}`, 'dev', 'br0']);
    for (const [host, address] of Object.entries(spec.hosts)) {
      const ns = hostNs(host);
      const port = `v-${host}`;
      await ip(['netns', 'add', ns]);
      await ip(['-n', bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
      await ip(['-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    onExit();
    process.removeListener('exit', onExit);
    throw err;
  }

  let destroyed: Promise<void> | undefined;
  return {
    interface: 'eth0',
    node: { namespace: bridgeNs, bridge: 'br0' },
    namespace: hostNs,
    address(host) {
      hostNs(host);
      return spec.hosts[host] as string;
    },
    spawn(host, command, args, options = {}) {
      const child = spawn('ip', ['netns', 'exec', hostNs(host), command, ...args], { stdio: 'pipe', ...options });
      children.add(child);
      child.once('close', () => children.delete(child));
      return child;
    },
    async run(host, command, args) {
      try {
        const { stdout, stderr } = await run('ip', ['netns', 'exec', hostNs(host), command, ...args]);
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number | string; stdout?: string; stderr?: string };
        if (typeof e.code !== 'number') throw err;
        return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    destroy() {
      destroyed ??= (async () => {
        const exits = [...children].map(
          (child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('close', () => resolve()))),
        );
        for (const child of children) child.kill('SIGTERM');
        // A process that ignores SIGTERM gets SIGKILL from onExit after a grace period.
        let grace: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(exits), new Promise<void>((resolve) => (grace = setTimeout(resolve, GRACE_MS)))]);
        clearTimeout(grace);
        onExit();
        process.removeListener('exit', onExit);
      })();
      return destroyed;
    },
  };
}

/** Runs fn in a fresh lab and removes the lab afterwards, whether fn succeeded or not. */
export async function withLab<T>(spec: LabSpec, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(spec);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}
