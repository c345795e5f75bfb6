// Where the L7 proxy runs: in this process when the agent enforces in its own network namespace,
// or in a child process started inside the node's namespace (`ip netns exec`), because a listening
// socket belongs to the namespace it was opened in and a Node process cannot switch namespaces.
// Either way the agent sees one interface: start, update with each policy it puts in force, stop.
// The child talks to the agent over Node's IPC channel and exits when that channel closes, so
// a proxy never outlives its agent (kill -9 included).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AddressIndex } from '../../inventory/attribute.js';
import type { Policy } from '../../model/policy.js';
import type { Inventory } from '../../model/workload.js';
import { compile } from '../../policy/compile.js';
import { checkOriginalDestination } from './original-dst.js';
import { L7Proxy, proxyPolicy, type ProxyDecision, type ProxyStats } from './proxy.js';
import type { UdpDestination } from '../nft/ruleset.js';
import type { UdpStats } from './udp.js';

/** The port the agent's proxy listens on unless told otherwise. */
export const DEFAULT_PROXY_PORT = 15001;

export interface ProxyInput {
  policy: Policy;
  inventory: Inventory;
  /** The UDP destinations the table redirects, each to its own port (Ruleset.udpDestinations). */
  udp: UdpDestination[];
}

export interface ProxyHostOptions {
  port: number;
  /** Network namespace (ip netns name) to run in; absent: this process. */
  netns?: string;
  input: ProxyInput;
  onDecision: (d: ProxyDecision) => void;
  say: (line: string) => void;
}

export interface ProxyHost {
  readonly port: number;
  /**
   * The policy for connections decided from now on; with `revisit`, open connections are decided
   * again with it and those it no longer allows are cut (once the new table is in force).
   */
  update(input: ProxyInput, how?: { revisit?: boolean }): Promise<void>;
  stats(): Promise<ProxyStats & { udp: UdpStats }>;
  stop(): Promise<void>;
  /** Resolves with a reason if the proxy ends while it should be running. */
  readonly ended: Promise<string>;
}

/** Messages agent → child. */
export type ToChild = { type: 'start'; port: number; input: ProxyInput } | { type: 'update'; id: number; input: ProxyInput; revisit?: boolean } | { type: 'stats'; id: number } | { type: 'stop' };
/** Messages child → agent. */
export type FromChild =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; stats?: ProxyStats & { udp: UdpStats } }
  | { type: 'decision'; decision: ProxyDecision }
  | { type: 'say'; line: string };

export function policyOf(input: ProxyInput): ReturnType<typeof proxyPolicy> {
  return proxyPolicy(compile(input.policy, input.inventory), new AddressIndex(input.inventory));
}

export async function startProxyHost(opts: ProxyHostOptions): Promise<ProxyHost> {
  return opts.netns === undefined ? startHere(opts) : startInNamespace(opts, opts.netns);
}

async function startHere(opts: ProxyHostOptions): Promise<ProxyHost> {
  checkOriginalDestination();
  const proxy = new L7Proxy({ policy: policyOf(opts.input), onDecision: opts.onDecision, say: opts.say });
  const port = await proxy.listen(opts.port);
  try {
    await proxy.setUdpDestinations(opts.input.udp);
  } catch (err) {
    await proxy.close();
    throw err;
  }
  return {
    port,
    update: async (input, how) => {
      proxy.setPolicy(policyOf(input));
      await proxy.setUdpDestinations(input.udp);
      if (how?.revisit === true) sayRevoked(proxy.revisit(), opts.say);
    },
    stats: async () => ({ ...proxy.stats(), udp: proxy.udpStats() }),
    stop: () => proxy.close(),
    ended: new Promise<string>(() => undefined),
  };
}

/** Tells the operator about connections a policy change cut. */
export function sayRevoked(cut: number, say: (line: string) => void): void {
  if (cut > 0) say(`L7 proxy: ${cut} connection${cut === 1 ? '' : 's'} the new policy no longer allows ${cut === 1 ? 'was' : 'were'} cut`);
}

/** The child's entry point, run the way this module runs (compiled, or TypeScript through tsx). */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return here.replace(/host\.(ts|js)$/, (_m, ext: string) => `child.${ext}`);
}

async function startInNamespace(opts: ProxyHostOptions, netns: string): Promise<ProxyHost> {
  const entry = childEntry();
  // TypeScript sources (development, tests) run through tsx as this process does.
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, process.execPath, ...loader, entry], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  let stopping = false;
  let nextId = 1;
  const waiting = new Map<number, (stats?: ProxyStats & { udp: UdpStats }) => void>();
  const ended = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of waiting.values()) w();
      waiting.clear();
      if (!stopping) resolve(`the L7 proxy in ${netns} ended (${signal ?? `exit code ${code}`})`);
    });
    child.once('error', (err) => resolve(`the L7 proxy in ${netns} could not start: ${err.message}`));
  });
  const send = (m: ToChild): void => {
    if (child.connected) child.send(m);
  };
  const port = await new Promise<number>((resolve, reject) => {
    const early = (reason: string): void => reject(new Error(reason));
    void ended.then(early);
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') resolve(m.port);
      else if (m.type === 'failed') reject(new Error(m.message));
      else if (m.type === 'decision') opts.onDecision(m.decision);
      else if (m.type === 'say') opts.say(m.line);
      else if (m.type === 'done') {
        waiting.get(m.id)?.(m.stats);
        waiting.delete(m.id);
      }
    });
    send({ type: 'start', port: opts.port, input: opts.input });
  }).catch((err: Error) => {
    stopping = true;
    child.kill('SIGTERM');
    throw err;
  });
  const ask = (m: { type: 'update'; input: ProxyInput; revisit?: boolean } | { type: 'stats' }): Promise<(ProxyStats & { udp: UdpStats }) | undefined> =>
    new Promise((resolve) => {
      if (!child.connected) return resolve(undefined);
      const id = nextId++;
      waiting.set(id, resolve);
      send({ ...m, id });
    });
  return {
    port,
    update: async (input, how) => {
      await ask({ type: 'update', input, ...(how?.revisit === true ? { revisit: true } : {}) });
    },
    stats: async () => {
      const s = await ask({ type: 'stats' });
      if (s === undefined) throw new Error(`the L7 proxy in ${netns} is not running`);
      return s;
    },
    stop: async () => {
      if (stopping) return;
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
    ended,
  };
}
