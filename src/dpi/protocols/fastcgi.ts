// FastCGI 1.0: records with an 8-byte header (version 1, type, request id, content length,
// padding length, reserved). A web server opens a request with FCGI_BEGIN_REQUEST (role
// Responder/Authorizer/Filter) and FCGI_PARAMS; the application answers on STDOUT/END_REQUEST.
// The extractor records the role and the request method, URI and script from the params.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const BEGIN_REQUEST = 1;
const END_REQUEST = 3;
const PARAMS = 4;
const STDOUT = 6;
const STDERR = 7;
const GET_VALUES = 9;
const GET_VALUES_RESULT = 10;
const ROLES = ['Responder', 'Authorizer', 'Filter'];

interface RecordHeader {
  type: number;
  requestId: number;
  contentLength: number;
  paddingLength: number;
}

function record(b: Buffer, at: number): RecordHeader | undefined {
  if (at + 8 > b.length || b[at] !== 1) return undefined;
  return { type: b[at + 1] as number, requestId: b.readUInt16BE(at + 2), contentLength: b.readUInt16BE(at + 4), paddingLength: b[at + 6] as number };
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (data.length === 0) return 'need-more';
  if (data[0] !== 1) return 'no';
  if (data.length < 8) return 'need-more';
  const r = record(data, 0) as RecordHeader;
  if (data[7] !== 0 || r.paddingLength > 7) return 'no';
  if (dir === 'c2s') {
    if (r.type === GET_VALUES) return r.requestId === 0 ? 'match' : 'no';
    // FCGI_BeginRequestBody: role (1..3), flags (only FCGI_KEEP_CONN), 5 reserved bytes.
    if (r.type !== BEGIN_REQUEST || r.contentLength !== 8 || r.requestId === 0) return 'no';
    if (data.length < 16) return 'need-more';
    const role = data.readUInt16BE(8);
    return role >= 1 && role <= 3 && (data[10] as number) <= 1 ? 'match' : 'no';
  }
  if (r.type === GET_VALUES_RESULT) return r.requestId === 0 ? 'match' : 'no';
  if (r.type === END_REQUEST) return r.contentLength === 8 && r.requestId !== 0 ? 'match' : 'no';
  if (r.type !== STDOUT && r.type !== STDERR) return 'no';
  if (r.requestId === 0) return 'no';
  // STDOUT carries a CGI response: header lines such as "Status:" or "Content-type:".
  const head = data.toString('latin1', 8, Math.min(data.length, 8 + r.contentLength, 8 + 64));
  if (r.type === STDOUT && head.length < Math.min(r.contentLength, 16)) return 'need-more';
  return r.type === STDERR || /^[A-Za-z][A-Za-z0-9-]*:/.test(head) ? 'match' : 'no';
}

/** FastCGI name-value pairs: lengths of 1 byte, or 4 bytes with the top bit set. */
function pairs(b: Buffer, start: number, end: number, out: Map<string, string>): void {
  let at = start;
  const size = (): number => {
    const first = b[at];
    if (first === undefined) return -1;
    if (first < 0x80) {
      at += 1;
      return first;
    }
    if (at + 4 > end) return -1;
    const v = b.readUInt32BE(at) & 0x7fffffff;
    at += 4;
    return v;
  };
  for (let n = 0; n < 128 && at < end; n++) {
    const nameLength = size();
    const valueLength = size();
    if (nameLength < 0 || valueLength < 0 || at + nameLength + valueLength > end) return;
    out.set(b.toString('latin1', at, at + nameLength), b.toString('latin1', at + nameLength, at + nameLength + valueLength));
    at += nameLength + valueLength;
  }
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const params = new Map<string, string>();
  let at = 0;
  for (let n = 0; n < 16; n++) {
    const r = record(data, at);
    if (r === undefined) return data.length - at < 8 && data.length < 65536;
    const end = at + 8 + r.contentLength;
    if (end > data.length) return data.length < 65536;
    if (r.type === BEGIN_REQUEST && r.contentLength >= 2) {
      const role = ROLES[data.readUInt16BE(at + 8) - 1];
      if (role !== undefined) meta.fastcgiRole = role;
    }
    if (r.type === PARAMS) {
      // An empty PARAMS record ends the parameter stream.
      if (r.contentLength === 0) break;
      pairs(data, at + 8, end, params);
    }
    at = end + r.paddingLength;
  }
  const method = params.get('REQUEST_METHOD');
  const uri = params.get('REQUEST_URI');
  const script = params.get('SCRIPT_FILENAME');
  if (method !== undefined) meta.httpMethod = method;
  if (uri !== undefined) meta.httpPath = uri;
  if (script !== undefined) meta.fastcgiScript = script;
  return false;
}

export const fastcgi: ProtocolModule = {
  name: 'FastCGI',
  transports: ['tcp'],
  ports: [9000],
  // Every record starts with version 1.
  firstBytes: { c2s: [1], s2c: [1] },
  probe,
  extract,
};
