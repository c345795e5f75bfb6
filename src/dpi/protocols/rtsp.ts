// RTSP 1.0/2.0 (RFC 2326, RFC 7826): HTTP-like text requests "METHOD rtsp://... RTSP/1.0" with
// a CSeq header, answered by "RTSP/1.0 200 OK". The extractor reads method, URL, CSeq-bearing
// request's User-Agent and the server's reply status.

import { line } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { parseHead } from './http.js';

const METHODS = new Set([
  'OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER',
  'SET_PARAMETER', 'REDIRECT', 'RECORD', 'PLAY_NOTIFY',
]);
const MAX_LINE = 2048;

function probeRequest(b: Buffer): ProbeResult {
  const first = line(b, 0, MAX_LINE);
  if (first === undefined) {
    const word = b.toString('latin1', 0, Math.min(b.length, 14)).split(' ')[0] ?? '';
    const open = b.length < MAX_LINE && [...METHODS].some((m) => (b.includes(0x20) ? m === word : m.startsWith(word)));
    return open ? 'need-more' : 'no';
  }
  const parts = first.split(' ');
  if (parts.length !== 3 || !METHODS.has(parts[0] as string)) return 'no';
  const target = parts[1] as string;
  if (target !== '*' && !/^rtsps?u?:\/\/[!-~]+$/i.test(target)) return 'no';
  return /^RTSP\/[12]\.0$/.test(parts[2] as string) ? 'match' : 'no';
}

function probeResponse(b: Buffer): ProbeResult {
  const first = line(b, 0, MAX_LINE);
  if (first === undefined) return b.length < MAX_LINE && 'RTSP/'.startsWith(b.toString('latin1', 0, Math.min(b.length, 5))) ? 'need-more' : 'no';
  return /^RTSP\/[12]\.0 [1-5]\d\d( |$)/.test(first) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  return dir === 'c2s' ? probeRequest(data) : probeResponse(data);
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const head = parseHead(data);
  if (head === undefined) return data.length < MAX_LINE;
  if (dir === 's2c') {
    // parseHead reads only HTTP status lines; the RTSP one has the same shape.
    const status = /^RTSP\/\d\.\d (\d{3})/.exec(line(data, 0, MAX_LINE) ?? '')?.[1];
    if (status !== undefined) meta.rtspStatus = Number(status);
    const server = head.headers.get('server');
    if (server !== undefined) meta.rtspServer = server;
    return !head.complete;
  }
  if (head.method !== undefined) meta.rtspMethod = head.method;
  if (head.target !== undefined) meta.rtspUrl = head.target;
  const agent = head.headers.get('user-agent');
  if (agent !== undefined) meta.rtspUserAgent = agent;
  return !head.complete;
}

export const rtsp: ProtocolModule = {
  name: 'RTSP',
  transports: ['tcp'],
  ports: [554, 8554],
  // The client opens with a request method, the server with "RTSP/".
  firstBytes: { c2s: [...new Set([...METHODS].map((m) => m.charCodeAt(0)))], s2c: [0x52] },
  probe,
  extract,
};
