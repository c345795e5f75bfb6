// Apache JServ Protocol 1.3 (AJP13): packets from the web server start with 0x12 0x34, packets
// from the servlet container with "AB", then a 2-byte length and a prefix code (Forward Request,
// CPing/CPong, Send Headers, ...). The extractor reads method and URI of a Forward Request.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const FORWARD_REQUEST = 2;
const SHUTDOWN = 7;
const PING = 8;
const CPING = 10;
const SEND_BODY_CHUNK = 3;
const SEND_HEADERS = 4;
const END_RESPONSE = 5;
const GET_BODY_CHUNK = 6;
const CPONG = 9;
/** The default AJP packet size; max_packet_size can raise it to 65536. */
const MAX_PACKET = 65536;
/** Method codes 1 (OPTIONS) .. 28 (MKACTIVITY), plus 0xff for a method sent as a string. */
const METHODS = [
  'OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY',
  'MOVE', 'LOCK', 'UNLOCK', 'ACL', 'REPORT', 'VERSION-CONTROL', 'CHECKIN', 'CHECKOUT', 'UNCHECKOUT',
  'SEARCH', 'MKWORKSPACE', 'UPDATE', 'LABEL', 'MERGE', 'BASELINE-CONTROL', 'MKACTIVITY',
];

/** An AJP string: u16 length (0xffff for null), bytes, then a NUL terminator. */
function ajpString(b: Buffer, at: number): { text: string; next: number } | 'need-more' | undefined {
  if (at + 2 > b.length) return 'need-more';
  const len = b.readUInt16BE(at);
  if (len === 0xffff) return undefined;
  if (at + 3 + len > b.length) return 'need-more';
  if (b[at + 2 + len] !== 0) return undefined;
  return { text: b.toString('latin1', at + 2, at + 2 + len), next: at + 3 + len };
}

function forwardRequest(b: Buffer): { method: string; protocol: string; uri: string } | 'need-more' | undefined {
  const code = b[5];
  if (code === undefined) return 'need-more';
  const method = METHODS[code - 1];
  if (method === undefined) return undefined;
  const protocol = ajpString(b, 6);
  if (protocol === 'need-more' || protocol === undefined) return protocol;
  if (!/^HTTP\/\d\.\d$/.test(protocol.text)) return undefined;
  const uri = ajpString(b, protocol.next);
  if (uri === 'need-more' || uri === undefined) return uri;
  return /^\/[!-~]*$/.test(uri.text) ? { method, protocol: protocol.text, uri: uri.text } : undefined;
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  const magic = dir === 'c2s' ? [0x12, 0x34] : [0x41, 0x42];
  for (let i = 0; i < 2; i++) {
    const c = data[i];
    if (c === undefined) return 'need-more';
    if (c !== magic[i]) return 'no';
  }
  if (data.length < 5) return 'need-more';
  const length = data.readUInt16BE(2);
  const code = data[4] as number;
  if (length < 1 || length > MAX_PACKET) return 'no';
  if (dir === 'c2s') {
    if (code === CPING || code === PING || code === SHUTDOWN) return length === 1 ? 'match' : 'no';
    if (code !== FORWARD_REQUEST) return 'no';
    const r = forwardRequest(data);
    return r === 'need-more' ? 'need-more' : r === undefined ? 'no' : 'match';
  }
  if (code === CPONG) return length === 1 ? 'match' : 'no';
  if (code === SEND_HEADERS) {
    if (data.length < 7) return 'need-more';
    const status = data.readUInt16BE(5);
    return status >= 100 && status < 600 ? 'match' : 'no';
  }
  if (code === END_RESPONSE) return length === 2 ? 'match' : 'no';
  if (code === GET_BODY_CHUNK) return length === 3 ? 'match' : 'no';
  if (code === SEND_BODY_CHUNK) return length >= 3 ? 'match' : 'no';
  return 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s' || data[4] !== FORWARD_REQUEST) return dir === 'c2s' && data.length < 5;
  const r = forwardRequest(data);
  if (r === 'need-more') return true;
  if (r === undefined) return false;
  meta.httpMethod = r.method;
  meta.httpPath = r.uri;
  return false;
}

export const ajp: ProtocolModule = {
  name: 'AJP',
  aliases: ['AJP13'],
  transports: ['tcp'],
  ports: [8009],
  // Packets start with their magic: 0x1234 from the web server, 'AB' from the container.
  firstBytes: { c2s: [0x12], s2c: [0x41] },
  probe,
  extract,
};
