// HTTP/1.x (RFC 9112): a request line "METHOD SP target SP HTTP/1.x" from the client or a status
// line "HTTP/1.x NNN" from the server, proxy CONNECT included. The extractor reads the request
// line, Host and User-Agent, and the response status into the flow's metadata.

import { line, literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** RFC 9110 methods, WebDAV (RFC 4918, 3253, 5323) and PATCH (RFC 5789). */
const METHODS = [
  'GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT',
  'MKACTIVITY', 'CHECKOUT', 'MERGE',
];
const OPENING_BYTES = [...new Set([...METHODS, 'HTTP/1.'].map((opening) => opening.charCodeAt(0)))];

/** The longest request line a probe waits for before deciding it is not HTTP. */
const MAX_REQUEST_LINE = 2048;

/** "HTTP/1.0" or "HTTP/1.1" at `at`. */
function version(b: Buffer, at: number): ProbeResult {
  const r = literal(b, 'HTTP/1.', at);
  if (r !== 'match') return r;
  const minor = b[at + 7];
  if (minor === undefined) return 'need-more';
  return minor === 0x30 || minor === 0x31 ? 'match' : 'no';
}

/** The request method the buffer starts with, 'need-more' for a prefix of one, undefined for none. */
function method(b: Buffer): string | 'need-more' | undefined {
  let partial = false;
  for (const m of METHODS) {
    const r = literal(b, `${m} `);
    if (r === 'match') return m;
    if (r === 'need-more') partial = true;
  }
  return partial ? 'need-more' : undefined;
}

export function probeRequest(b: Buffer): ProbeResult {
  const m = method(b);
  if (m === undefined) return 'no';
  if (m === 'need-more') return 'need-more';
  // The request target is visible ASCII without spaces, then SP HTTP/1.x CRLF.
  for (let i = m.length + 1; i < Math.min(b.length, MAX_REQUEST_LINE); i++) {
    const c = b[i] as number;
    if (c === 0x20) {
      if (i === m.length + 1) return 'no';
      const v = version(b, i + 1);
      if (v !== 'match') return v;
      const end = b[i + 9];
      if (end === undefined) return 'need-more';
      return end === 0x0d || end === 0x0a ? 'match' : 'no';
    }
    if (c <= 0x20 || c >= 0x7f) return 'no';
  }
  return b.length >= MAX_REQUEST_LINE ? 'no' : 'need-more';
}

export function probeResponse(b: Buffer): ProbeResult {
  const v = version(b, 0);
  if (v !== 'match') return v;
  for (let i = 8; i < 13; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    const ok = i === 8 ? c === 0x20 : i === 12 ? c === 0x20 || c === 0x0d || c === 0x0a : c >= 0x30 && c <= 0x39;
    if (!ok) return 'no';
  }
  return 'match';
}

export interface HttpHead {
  /** Request method or undefined for a response. */
  method?: string;
  target?: string;
  status?: number;
  /** Header names lower-cased; the first occurrence of each wins. */
  headers: Map<string, string>;
  /** The empty line ending the header block was seen. */
  complete: boolean;
}

/**
 * The last two heads parsed and the buffers they came from. The HTTP extractor and the refiners
 * (WebSocket, Elasticsearch) of one session read the same request and response prefix again and
 * again, and the engine's inputs are views whose bytes never change: the same buffer object of
 * the same length is the same head.
 */
const recent: Array<{ b: Buffer; length: number; head: HttpHead | undefined }> = [];

/**
 * Parses the start line and headers of the first message in `b`, reading at most the prefix. The
 * result is shared with later calls on the same buffer: do not change it, nor the bytes of `b`.
 */
export function parseHead(b: Buffer): HttpHead | undefined {
  for (const r of recent) if (r.b === b && r.length === b.length) return r.head;
  const head = parse(b);
  if (recent.length === 2) recent.shift();
  recent.push({ b, length: b.length, head });
  return head;
}

function parse(b: Buffer): HttpHead | undefined {
  const first = line(b, 0, MAX_REQUEST_LINE);
  if (first === undefined) return undefined;
  const head: HttpHead = { headers: new Map(), complete: false };
  const parts = first.split(' ');
  if (first.startsWith('HTTP/')) {
    head.status = Number(parts[1]);
  } else {
    head.method = parts[0];
    head.target = parts[1];
  }
  let at = first.length + (b[first.length] === 0x0d ? 2 : 1);
  for (let n = 0; n < 100; n++) {
    const l = line(b, at, 8192);
    if (l === undefined) return head;
    at += l.length + (b[at + l.length] === 0x0d ? 2 : 1);
    if (l.length === 0) {
      head.complete = true;
      return head;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) continue;
    const name = l.slice(0, colon).trim().toLowerCase();
    if (!head.headers.has(name)) head.headers.set(name, l.slice(colon + 1).trim());
  }
  return head;
}

/**
 * A request or a response in either direction: the start line says which, while the session
 * table only guesses roles for captures begun mid-connection.
 */
function probe(data: Buffer): ProbeResult {
  const response = probeResponse(data);
  return response === 'no' ? probeRequest(data) : response;
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const head = parseHead(data);
  if (head === undefined) return data.length < MAX_REQUEST_LINE;
  if (head.status !== undefined) {
    if (Number.isInteger(head.status)) meta.httpStatus = head.status;
    return false;
  }
  if (head.method !== undefined) meta.httpMethod = head.method;
  if (head.target !== undefined) meta.httpPath = head.target;
  const host = head.headers.get('host') ?? (head.method === 'CONNECT' ? head.target : undefined);
  if (host !== undefined) meta.httpHost = host;
  const ua = head.headers.get('user-agent');
  if (ua !== undefined) meta.httpUserAgent = ua;
  return !head.complete;
}

export const http: ProtocolModule = {
  name: 'HTTP',
  aliases: ['HTTP/1.1'],
  transports: ['tcp'],
  ports: [80, 8080, 8000, 8008, 3128, 8888],
  // A request starts with its method, a response with "HTTP/1."; the probe reads both directions alike.
  firstBytes: { c2s: OPENING_BYTES, s2c: OPENING_BYTES },
  probe,
  extract,
};
