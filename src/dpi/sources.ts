// Where flows come from for learning and mapping: captures (pcap, pcapng, through the packet
// pipeline), Palisade's own Flow JSON lines (`palisade inspect --format jsonl`), and Cilium Hubble
// exports. The kind is told from each input's first bytes; every kind ends as Flow records.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Flow, FlowEndpoint, IpProto } from '../model/flow.js';
import { canonicalIp } from '../model/address.js';
import { CaptureError } from '../packet/index.js';
import { DnsNames } from './dns-names.js';
import { inspect } from './flows.js';
import { flowFromHubble, isHubbleRecord } from './hubble.js';

export type SourceKind = 'pcap' | 'pcapng' | 'flows' | 'hubble' | 'empty';

/** A line that could not be read: reported and skipped, never fatal. */
export interface SourceProblem {
  file: string;
  line: number;
  message: string;
}

export interface SourceStats {
  kind: SourceKind;
  flows: number;
  skipped: number;
}

export interface SourceOptions {
  /** DNS answers seen in any input name external addresses; shared across inputs. */
  dns?: DnsNames;
  onProblem?: (p: SourceProblem) => void;
  /** Longest line kept in memory; longer lines are skipped. */
  maxLineBytes?: number;
}

/** An input that cannot be read at all (missing, unreadable, not a known format). */
export class SourceError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'SourceError';
  }
}

const IP_PROTOS: readonly IpProto[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'other'];
const PCAP_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1];

export function detectKind(head: Uint8Array): SourceKind {
  if (head.length >= 4) {
    const magic = ((head[0] as number) << 24) | ((head[1] as number) << 16) | ((head[2] as number) << 8) | (head[3] as number);
    if (PCAP_MAGICS.includes(magic >>> 0)) return 'pcap';
    if (magic >>> 0 === 0x0a0d0d0a) return 'pcapng';
  }
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8');
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return 'empty';
  const hubbleHint = /^\s*\{\s*"(flow|time|uuid|verdict|IP|l4|source|destination|node_name)"/.test(first) && !/"client"\s*:/.test(first);
  return hubbleHint ? 'hubble' : 'flows';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function endpointOf(v: unknown, side: string): FlowEndpoint | string {
  if (!isObj(v)) return `${side} must be an object with ip and port`;
  const ip = typeof v['ip'] === 'string' ? canonicalIp(v['ip']) : undefined;
  if (ip === undefined) return `${side}.ip must be an IP address`;
  const port = v['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return `${side}.port must be an integer 0-65535`;
  const ep: FlowEndpoint = { ip, port };
  if (typeof v['workload'] === 'string') ep.workload = v['workload'];
  return ep;
}

const counters = (v: unknown): Flow['c2s'] => {
  if (!isObj(v)) return { packets: 0, bytes: 0 };
  const n = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  return { packets: n(v['packets']), bytes: n(v['bytes']) };
};

/** A parsed Flow JSON line checked at the boundary: the fields learning relies on, typed. */
export function flowFromJson(v: unknown): Flow | string {
  if (!isObj(v)) return 'not a JSON object';
  const first = typeof v['firstSeen'] === 'string' ? Date.parse(v['firstSeen']) : Number.NaN;
  if (Number.isNaN(first)) return 'firstSeen must be an ISO 8601 time';
  const lastText = typeof v['lastSeen'] === 'string' ? v['lastSeen'] : v['firstSeen'];
  const last = typeof lastText === 'string' ? Date.parse(lastText) : Number.NaN;
  if (Number.isNaN(last)) return 'lastSeen must be an ISO 8601 time';
  const ipProto = v['ipProto'];
  if (typeof ipProto !== 'string' || !(IP_PROTOS as readonly string[]).includes(ipProto)) return `ipProto must be one of ${IP_PROTOS.join(', ')}`;
  const client = endpointOf(v['client'], 'client');
  if (typeof client === 'string') return client;
  const server = endpointOf(v['server'], 'server');
  if (typeof server === 'string') return server;
  const confidence = v['appConfidence'];
  const app = typeof v['app'] === 'string' && v['app'] !== '' ? v['app'] : 'unknown';
  return {
    id: typeof v['id'] === 'string' || typeof v['id'] === 'number' ? String(v['id']) : '',
    firstSeen: v['firstSeen'] as string,
    lastSeen: lastText as string,
    ipProto: ipProto as IpProto,
    client,
    server,
    app,
    appConfidence: confidence === 'dpi' || confidence === 'port' ? confidence : app === 'unknown' ? 'none' : 'port',
    meta: isObj(v['meta']) ? (v['meta'] as Flow['meta']) : {},
    c2s: counters(v['c2s']),
    s2c: counters(v['s2c']),
  };
}

function openInput(file: string | Readable): AsyncIterable<Buffer> {
  if (typeof file !== 'string') return file as AsyncIterable<Buffer>;
  if (file === '-') return process.stdin as AsyncIterable<Buffer>;
  return createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
}

/** Splits byte chunks into lines (1-based numbers); a line over the cap is reported as too long. */
export async function* lines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<{ n: number; text: string | undefined }> {
  let carry: Buffer = Buffer.alloc(0);
  let n = 0;
  let overlong = false;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      n++;
      if (overlong || carry.length + nl - start > maxLineBytes) yield { n, text: undefined };
      else if (carry.length > 0) yield { n, text: Buffer.concat([carry, chunk.subarray(start, nl)]).toString('utf8') };
      else yield { n, text: chunk.toString('utf8', start, nl) };
      carry = Buffer.alloc(0);
      overlong = false;
      start = nl + 1;
    }
    if (overlong) continue;
    if (carry.length + chunk.length - start > maxLineBytes) {
      overlong = true;
      carry = Buffer.alloc(0);
    } else if (start < chunk.length) {
      carry = Buffer.concat([carry, chunk.subarray(start)]);
    }
  }
  if (overlong || carry.length > 0) yield { n: n + 1, text: overlong ? undefined : carry.toString('utf8') };
}

/** The stream with its first chunk put back in front, after it was read to tell the kind. */
async function* withHead(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  for (let r = await rest.next(); r.done !== true; r = await rest.next()) yield r.value;
}

/**
 * Reads one input of any kind, handing every Flow to `onFlow` in input order. Malformed lines are
 * passed to `onProblem` and counted; an input that cannot be opened or read throws SourceError.
 */
export async function readFlowSource(file: string | Readable, onFlow: (flow: Flow) => void, opts: SourceOptions = {}): Promise<SourceStats> {
  const name = typeof file === 'string' ? file : '-';
  const dns = opts.dns ?? new DnsNames();
  const maxLine = opts.maxLineBytes ?? 1024 * 1024;
  try {
    const iter = openInput(file)[Symbol.asyncIterator]();
    const first = await iter.next();
    const head = first.done === true ? Buffer.alloc(0) : Buffer.from(first.value);
    const kind = detectKind(head.subarray(0, 4096));
    const stats: SourceStats = { kind, flows: 0, skipped: 0 };
    if (kind === 'empty') {
      await iter.return?.();
      return stats;
    }
    const emit = (f: Flow): void => {
      if (f.meta.dnsAnswers !== undefined && Array.isArray(f.meta.dnsAnswers)) dns.learn(f.meta.dnsAnswers);
      stats.flows++;
      onFlow(f);
    };
    if (kind === 'pcap' || kind === 'pcapng') {
      await inspect(withHead(head, iter), emit, { dns });
      return stats;
    }
    for await (const { n, text } of lines(withHead(head, iter), maxLine)) {
      if (text !== undefined && text.trim() === '') continue;
      let flow: Flow | string;
      if (text === undefined) flow = `line longer than ${maxLine} bytes`;
      else {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          value = undefined;
        }
        if (value === undefined) flow = 'not valid JSON';
        else if (kind === 'hubble' || isHubbleRecord(value)) flow = flowFromHubble(value, `${name}:${n}`);
        else flow = flowFromJson(value);
        if (typeof flow !== 'string' && flow.id === '') flow.id = `${name}:${n}`;
      }
      if (typeof flow === 'string') {
        stats.skipped++;
        opts.onProblem?.({ file: name, line: n, message: flow });
      } else emit(flow);
    }
    return stats;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') throw new SourceError(name, err.message);
    if (err instanceof CaptureError) throw new SourceError(name, err.message);
    throw err;
  }
}
