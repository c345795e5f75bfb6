// SIP (RFC 3261) over UDP or TCP: text requests "INVITE sip:bob@example.com SIP/2.0" with Via,
// From, To, Call-ID and CSeq headers, answered by "SIP/2.0 200 OK". The extractor reads the
// method, request URI, From/To and the User-Agent.

import { line } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { parseHead } from './http.js';

/** RFC 3261 methods and the extensions (PRACK, SUBSCRIBE/NOTIFY, PUBLISH, INFO, REFER, MESSAGE, UPDATE). */
const METHODS = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH',
  'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);
const OPENING_BYTES = [...new Set([...METHODS, 'SIP/2.0'].map((opening) => opening.charCodeAt(0)))];
const MAX_LINE = 2048;

/** Either side may send requests (a callee sends BYE), so each direction accepts both kinds. */
function probe(data: Buffer): ProbeResult {
  const first = line(data, 0, MAX_LINE);
  if (first === undefined) {
    const head = data.toString('latin1', 0, Math.min(data.length, 10));
    const word = head.split(' ')[0] ?? '';
    const spaced = head.includes(' ');
    const open = [...METHODS, 'SIP/2.0'].some((m) => (spaced ? m === word : m.startsWith(word)));
    return open && data.length < MAX_LINE ? 'need-more' : 'no';
  }
  if (/^SIP\/2\.0 [1-6]\d\d( |$)/.test(first)) return 'match';
  const parts = first.split(' ');
  if (parts.length !== 3 || !METHODS.has(parts[0] as string) || parts[2] !== 'SIP/2.0') return 'no';
  return /^(sips?|tel):[!-~]+$/i.test(parts[1] as string) ? 'match' : 'no';
}

/** The URI inside a From/To header value ("Alice" <sip:alice@x>;tag=1 → sip:alice@x). */
function uriOf(value: string): string {
  const m = /<([^>]*)>/.exec(value);
  return m?.[1] ?? (value.split(';')[0] ?? value).trim();
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const head = parseHead(data);
  if (head === undefined) return data.length < MAX_LINE;
  // parseHead reads only HTTP status lines; a SIP one shows as the "method" SIP/2.0.
  const status = /^SIP\/2\.0 (\d{3})/.exec(line(data, 0, MAX_LINE) ?? '')?.[1];
  if (status !== undefined) {
    meta.sipStatus = Number(status);
  } else {
    if (head.method !== undefined) meta.sipMethod = head.method;
    if (head.target !== undefined) meta.sipUri = head.target;
  }
  // Compact header forms (RFC 3261 section 7.3.3): f = From, t = To.
  const from = head.headers.get('from') ?? head.headers.get('f');
  const to = head.headers.get('to') ?? head.headers.get('t');
  const agent = head.headers.get('user-agent') ?? head.headers.get('server');
  if (from !== undefined) meta.sipFrom = uriOf(from);
  if (to !== undefined) meta.sipTo = uriOf(to);
  if (agent !== undefined) meta.sipUserAgent = agent;
  return !head.complete;
}

export const sip: ProtocolModule = {
  name: 'SIP',
  transports: ['udp', 'tcp'],
  ports: [5060, 5061],
  // A request starts with its method, a response with "SIP/2.0"; the probe reads both directions alike.
  firstBytes: { c2s: OPENING_BYTES, s2c: OPENING_BYTES },
  probe,
  extract,
};
