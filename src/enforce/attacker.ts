// The attacker of the lab: what an intruder does once inside the network (DESIGN.md, Enforcement on
// a node). Lateral movement towards the data stores and the card zone, a compromised storefront
// calling the database directly, and a TCP port scan, each a real connection attempt from a pod.
// `palisade demo` and the protect-mode e2e test run these against the enforced shop.

import { labPod, runInPod, type LabState } from './lab/lab.js';

/** What became of one connection attempt, as the client sees it. */
export type AttemptOutcome =
  /** No answer at all: a dropped SYN, what enforcement in protect looks like. */
  | 'blocked'
  /** The server accepted the connection. */
  | 'connected'
  /** The server's host answered with a reset: reachable, nothing listens. */
  | 'refused';

export interface AttackStep {
  /** What an analyst would call it. */
  name: string;
  /** Pod the attempt is made from. */
  from: string;
  /** Pod it aims at. */
  to: string;
  port: number;
  /**
   * Bytes sent once connected: the step then tests layer 7, where the port is allowed but not
   * what is spoken on it, and it counts as blocked unless the server answers.
   */
  payload?: string;
}

/**
 * The intruder's moves in the shop: from the attacker pod (in no inventory) to the database, the
 * cache and the payment service, and from the storefront, as if nginx were compromised, straight
 * to the database it never talks to.
 */
export const LATERAL_MOVEMENT: readonly AttackStep[] = [
  { name: 'attacker probes the orders database', from: 'attacker', to: 'postgres', port: 5432 },
  { name: 'attacker probes the session cache', from: 'attacker', to: 'redis', port: 6379 },
  { name: 'attacker probes the payment service', from: 'attacker', to: 'payments', port: 8443 },
  { name: 'compromised storefront calls the database directly', from: 'web', to: 'postgres', port: 5432 },
  // The storefront may call the API over HTTP on 8080; the same port speaking Redis is not that.
  { name: 'compromised storefront speaks Redis to the API port', from: 'web', to: 'api', port: 8080, payload: '*2\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n' },
];

/** How long a connect may wait for an answer before it counts as blocked. */
const CONNECT_TIMEOUT_MS = 1500;
/** How long a step with a payload waits for an answer after connecting. */
const L7_TIMEOUT_MS = 7000;
/** The scan's per-port wait: a SYN that gets no answer in this time is filtered. */
const SCAN_TIMEOUT_MS = 700;
/** Connects in flight at once during a scan: fast like a real scanner, bounded. */
const SCAN_WIDTH = 256;

/**
 * A TCP connect prober run by Node inside the pod: ports first..last of host, `width` at a time,
 * each given `timeoutMs`; prints { open, refused, filtered } as JSON. It runs as plain JavaScript
 * because it executes in the pod's namespace as its own process, like any intruder's tool.
 */
const PROBER = `
const net = require('node:net');
const [host, first, last, timeoutMs, width, payload] = process.argv.slice(1);
const bytes = payload ? Buffer.from(payload, 'base64') : undefined;
const ports = [];
for (let p = Number(first); p <= Number(last); p++) ports.push(p);
const result = { open: [], refused: [], filtered: [], reset: [], silent: [] };
const probe = (port) => new Promise((done) => {
  const socket = net.connect({ host, port });
  let settled = false;
  const end = (kind) => {
    if (settled) return;
    settled = true;
    socket.destroy();
    result[kind].push(port);
    done();
  };
  let connected = false;
  socket.setTimeout(Number(timeoutMs), () => end(connected ? 'silent' : 'filtered'));
  socket.once('connect', () => {
    connected = true;
    if (!bytes) return end('open');
    socket.write(bytes);
    socket.once('data', () => end('open'));
    socket.once('close', () => end('reset'));
  });
  socket.once('error', (e) => end(connected ? 'reset' : e.code === 'ECONNREFUSED' ? 'refused' : 'filtered'));
});
const worker = async () => { while (ports.length > 0) await probe(ports.shift()); };
Promise.all(Array.from({ length: Number(width) }, worker)).then(() => {
  for (const list of Object.values(result)) list.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify(result));
});
`;

export interface ProbeResult {
  /** Connected (and, with a payload, answered). */
  open: number[];
  refused: number[];
  filtered: number[];
  /** With a payload: connected, then reset or closed without an answer. */
  reset: number[];
  /** With a payload: connected, then no answer within the timeout. */
  silent: number[];
}

async function probe(state: LabState, from: string, to: string, first: number, last: number, timeoutMs: number, width: number, payload?: string): Promise<ProbeResult> {
  const host = labPod(state, to).address;
  const budget = (Math.ceil((last - first + 1) / width) + 1) * timeoutMs + 10_000;
  const args = ['-e', PROBER, host, String(first), String(last), String(timeoutMs), String(width), ...(payload === undefined ? [] : [Buffer.from(payload, 'latin1').toString('base64')])];
  const r = await runInPod(state, from, process.execPath, args, { timeoutMs: budget });
  if (r.code !== 0) throw new Error(`the prober in ${from} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as ProbeResult;
}

/** One connection attempt of a step. */
export async function attempt(state: LabState, step: AttackStep): Promise<AttemptOutcome> {
  // The L7 proxy decides once identification is done (an unknown protocol waits up to 5 s).
  const r = await probe(state, step.from, step.to, step.port, step.port, step.payload === undefined ? CONNECT_TIMEOUT_MS : L7_TIMEOUT_MS, 1, step.payload);
  return r.open.length > 0 || r.silent.length > 0 ? 'connected' : r.refused.length > 0 ? 'refused' : 'blocked';
}

export interface ScanResult {
  from: string;
  to: string;
  first: number;
  last: number;
  result: ProbeResult;
}

/** A TCP connect scan of ports first..last of a pod, as an intruder maps what a host offers. */
export async function portScan(state: LabState, from: string, to: string, first = 1, last = 1024): Promise<ScanResult> {
  return { from, to, first, last, result: await probe(state, from, to, first, last, SCAN_TIMEOUT_MS, SCAN_WIDTH) };
}
