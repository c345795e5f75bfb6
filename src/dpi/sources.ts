// Where flows come from for learning and mapping: captures (pcap, pcapng, through the packet
// pipeline), Palisade's own Flow JSON lines (`palisade inspect --format jsonl`), and Cilium Hubble
// exports. The kind is told from each input's first bytes; every kind ends as Flow records.

import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Flow, IpProto } from '../model/flow.js';
import { canonicalIp } from '../model/address.js';
import { CaptureError } from '../packet/index.js';
import { DnsNames } from './dns-names.js';
import { inspect } from './flows.js';
import { flowFromHubble, isHubbleRecord } from './hubble.js';

export type SourceKind = 'pcap' | 'pcapng' | 'flows' | 'hubble' | 'empty' | 'unknown';

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
  if (!first.trimStart().startsWith('{')) return 'unknown';
  const hubbleHint = /^\s*\{\s*"(flow|time|uuid|verdict|IP|l4|source|destination|node_name)"/.test(first) && !/"client"\s*:/.test(first);
  return hubbleHint ? 'hubble' : 'flows';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks one endpoint in place (the object is fresh from JSON.parse): canonical ip, port, workload. */
function checkEndpoint(v: unknown, side: string): string | undefined {
  if (!isObj(v)) return `${side} must be an object with ip and port`;
  const text = v['ip'];
  const ip = typeof text !== 'string' ? undefined : isPlainV4(text) ? text : canonicalIp(text);
  if (ip === undefined) return `${side}.ip must be an IP address`;
  v['ip'] = ip;
  const port = v['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return `${side}.port must be an integer 0-65535`;
  if (v['workload'] !== undefined && typeof v['workload'] !== 'string') return `${side}.workload must be a string`;
  return undefined;
}

const count = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);

function counters(v: unknown): Flow['c2s'] {
  if (!isObj(v)) return { packets: 0, bytes: 0 };
  v['packets'] = count(v['packets']);
  v['bytes'] = count(v['bytes']);
  if (v['payloadBytes'] !== undefined) v['payloadBytes'] = count(v['payloadBytes']);
  return v as unknown as Flow['c2s'];
}

/** Dotted IPv4 already in canonical form (no leading zeros), the common case, checked without parsing. */
function isPlainV4(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      digits++;
    } else return false;
  }
  return parts === 4;
}

const digitsAt = (s: string, at: number, n: number): number => {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
};

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds of an ISO 8601 time. The form Palisade writes (`2026-01-10T10:00:00.000Z`) is read
 * by hand, several times faster than Date.parse, which takes every other form.
 */
let memoText = '';
let memoMs = Number.NaN;

export function parseTime(text: unknown): number {
  if (typeof text !== 'string') return Number.NaN;
  // Reading a flow and adding it to the graph both ask for its time: the second ask is free.
  if (text === memoText) return memoMs;
  memoText = text;
  memoMs = readTime(text);
  return memoMs;
}

/** Midnight of the day last read: flows come in time order, so most share it with the flow before. */
let dayText = '';
let dayMs = Number.NaN;

function readTime(text: string): number {
  if (text.length !== 24 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) {
    return Date.parse(text);
  }
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const ms = digitsAt(text, 20, 3);
  if (!(hour < 24 && minute < 60 && second < 60 && ms >= 0)) return Date.parse(text);
  if (dayText === '' || !text.startsWith(dayText)) {
    const day = readDay(text);
    if (Number.isNaN(day)) return Date.parse(text);
    dayText = text.slice(0, 10);
    dayMs = day;
  }
  return dayMs + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** Milliseconds at the start of the day `YYYY-MM-DD` that begins `text`; NaN for no date, and for years before 100, which Date.UTC would read as 19xx. */
function readDay(text: string): number {
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return month >= 1 && month <= 12 && day >= 1 && day <= days && year >= 100 ? Date.UTC(year, month - 1, day) : Number.NaN;
}

/** A parsed Flow JSON line checked at the boundary: the fields learning relies on, typed. */
export function flowFromJson(v: unknown): Flow | string {
  if (!isObj(v)) return 'not a JSON object';
  if (Number.isNaN(parseTime(v['firstSeen']))) return 'firstSeen must be an ISO 8601 time';
  if (v['lastSeen'] === undefined) v['lastSeen'] = v['firstSeen'];
  else if (v['lastSeen'] !== v['firstSeen'] && Number.isNaN(parseTime(v['lastSeen']))) return 'lastSeen must be an ISO 8601 time';
  const ipProto = v['ipProto'];
  if (typeof ipProto !== 'string' || !(IP_PROTOS as readonly string[]).includes(ipProto)) return `ipProto must be one of ${IP_PROTOS.join(', ')}`;
  const bad = checkEndpoint(v['client'], 'client') ?? checkEndpoint(v['server'], 'server');
  if (bad !== undefined) return bad;
  // The object is fresh from JSON.parse, so it is checked and completed in place rather than
  // copied: at a million flows the copy costs more than the checks.
  const id = v['id'];
  if (typeof id !== 'string') v['id'] = typeof id === 'number' ? String(id) : '';
  const app = v['app'];
  if (typeof app !== 'string' || app === '') v['app'] = 'unknown';
  const confidence = v['appConfidence'];
  if (confidence !== 'dpi' && confidence !== 'port' && confidence !== 'none') v['appConfidence'] = v['app'] === 'unknown' ? 'none' : 'port';
  if (!isObj(v['meta'])) v['meta'] = {};
  v['c2s'] = counters(v['c2s']);
  v['s2c'] = counters(v['s2c']);
  // What later stages read from a recorded flow's verdict or threats is not taken from a file.
  if ('verdict' in v) delete v['verdict'];
  if ('threats' in v) delete v['threats'];
  return v as unknown as Flow;
}

/** A JSON string without escapes or control characters, whose text is its value. */
const STRING = String.raw`([^"\\\u0000-\u001f]*)`;
/** An unsigned integer of up to 15 digits, exact as a double. */
const INTEGER = '(0|[1-9][0-9]{0,14})';
const ENDPOINT = String.raw`\{"ip":"${STRING}","port":${INTEGER}(?:,"workload":"${STRING}")?\}`;
const COUNTERS = String.raw`\{"packets":${INTEGER},"bytes":${INTEGER}(?:,"payloadBytes":${INTEGER})?\}`;
/** A Flow as JSON.stringify writes it, up to meta, and after it. */
const FLOW_HEAD = new RegExp(
  String.raw`\{"id":"${STRING}","firstSeen":"${STRING}","lastSeen":"${STRING}","ipProto":"${STRING}","client":${ENDPOINT},"server":${ENDPOINT},"app":"${STRING}","appConfidence":"${STRING}","meta":`,
  'y',
);
const FLOW_TAIL = new RegExp(String.raw`,"c2s":${COUNTERS},"s2c":${COUNTERS}(?:,"vlan":${INTEGER})?\}$`, 'y');

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

/**
 * JSON.parse for Flow JSON lines as Palisade writes them (JSON.stringify of a Flow), at a fraction
 * of its cost, which is most of reading a line: two regular expressions match the keys of Flow in
 * their order, strings without escapes and unsigned integers; meta goes to JSON.parse unless it is
 * empty. Any other line gives undefined and goes to JSON.parse, so the value is always the one
 * JSON.parse gives, down to the order of keys.
 */
export function parsePlainFlow(line: string): Record<string, unknown> | undefined {
  FLOW_HEAD.lastIndex = 0;
  const head = FLOW_HEAD.exec(line);
  if (head === null) return undefined;
  let at = FLOW_HEAD.lastIndex;
  let meta: unknown = {};
  if (line.charCodeAt(at) === OPEN_OBJECT && line.charCodeAt(at + 1) === CLOSE_OBJECT) at += 2;
  else {
    const end = line.charCodeAt(at) === OPEN_OBJECT ? valueEnd(line, at) : -1;
    if (end < 0) return undefined;
    try {
      meta = JSON.parse(line.slice(at, end)) as unknown;
    } catch {
      return undefined;
    }
    at = end;
  }
  FLOW_TAIL.lastIndex = at;
  const tail = FLOW_TAIL.exec(line);
  if (tail === null) return undefined;
  const flow: Record<string, unknown> = {
    id: head[1],
    firstSeen: head[2],
    lastSeen: head[3],
    ipProto: head[4],
    client: plainEndpoint(head, 5),
    server: plainEndpoint(head, 8),
    app: head[11],
    appConfidence: head[12],
    meta,
    c2s: plainCounters(tail, 1),
    s2c: plainCounters(tail, 4),
  };
  if (tail[7] !== undefined) flow['vlan'] = Number(tail[7]);
  return flow;
}

/** The endpoint whose ip, port and workload are the groups from `i` of a match of ENDPOINT. */
function plainEndpoint(match: RegExpExecArray, i: number): Record<string, unknown> {
  const workload = match[i + 2];
  return workload === undefined ? { ip: match[i], port: Number(match[i + 1]) } : { ip: match[i], port: Number(match[i + 1]), workload };
}

/** The counters whose packets, bytes and payloadBytes are the groups from `i` of a match of COUNTERS. */
function plainCounters(match: RegExpExecArray, i: number): Record<string, unknown> {
  const payloadBytes = match[i + 2];
  const packets = Number(match[i]);
  const bytes = Number(match[i + 1]);
  return payloadBytes === undefined ? { packets, bytes } : { packets, bytes, payloadBytes: Number(payloadBytes) };
}

/** Where the object or array opening at `start` closes (strings skipped whole), or -1. */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
  return -1;
}

const isBlank = (text: string): boolean => text.length === 0 || (text.length < 8 && text.trim() === '');

function openInput(file: string | Readable): AsyncIterable<Buffer> {
  if (typeof file !== 'string') return file as AsyncIterable<Buffer>;
  if (file === '-') return process.stdin as AsyncIterable<Buffer>;
  return createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
}

/**
 * Splits byte chunks into lines (1-based numbers), synchronously per chunk: a promise per line
 * would cost more than parsing it. A line over the cap is passed as undefined and never kept.
 */
/** Shared, so that a line without a carried start allocates nothing to say so. */
const NO_CARRY = Buffer.alloc(0);

export class LineSplitter {
  private carry: Buffer = NO_CARRY;
  private n = 0;
  private overlong = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (n: number, text: string | undefined) => void,
  ) {}

  private line(chunk: Buffer, start: number, nl: number): void {
    this.n++;
    if (this.overlong || this.carry.length + nl - start > this.maxLineBytes) this.onLine(this.n, undefined);
    else if (this.carry.length > 0) this.onLine(this.n, Buffer.concat([this.carry, chunk.subarray(start, nl)]).toString('utf8'));
    else this.onLine(this.n, chunk.toString('utf8', start, nl));
    this.carry = NO_CARRY;
    this.overlong = false;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    if (this.overlong) return;
    if (this.carry.length + chunk.length - start > this.maxLineBytes) {
      this.overlong = true;
      this.carry = NO_CARRY;
    } else if (start < chunk.length) {
      this.carry = Buffer.concat([this.carry, chunk.subarray(start)]);
    }
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    if (this.overlong) this.onLine(this.n + 1, undefined);
    else if (this.carry.length > 0) this.onLine(this.n + 1, this.carry.toString('utf8'));
    this.carry = NO_CARRY;
  }
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
    if (kind === 'empty' || kind === 'unknown') {
      await iter.return?.();
      if (kind === 'unknown') throw new SourceError(name, 'not a pcap or pcapng capture, Flow JSON lines or a Hubble JSON export');
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
    const onValue = (n: number, value: unknown): void => {
      const flow = kind === 'hubble' || isHubbleRecord(value) ? flowFromHubble(value, `${name}:${n}`) : flowFromJson(value);
      if (typeof flow === 'string') {
        stats.skipped++;
        opts.onProblem?.({ file: name, line: n, message: flow });
        return;
      }
      if (flow.id === '') flow.id = `${name}:${n}`;
      emit(flow);
    };
    const onLine = (n: number, text: string | undefined): void => {
      if (text !== undefined && isBlank(text)) return;
      let value: unknown = text !== undefined && kind === 'flows' ? parsePlainFlow(text) : undefined;
      if (value === undefined && text !== undefined) {
        try {
          value = JSON.parse(text) as unknown;
        } catch {
          value = undefined;
        }
      }
      if (value !== undefined) return onValue(n, value);
      stats.skipped++;
      opts.onProblem?.({ file: name, line: n, message: text === undefined ? `line longer than ${maxLine} bytes` : 'not valid JSON' });
    };
    const splitter = new LineSplitter(maxLine, onLine);
    for await (const chunk of withHead(head, iter)) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    splitter.end();
    return stats;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') throw new SourceError(name, err.message);
    if (err instanceof CaptureError) throw new SourceError(name, err.message);
    throw err;
  }
}
