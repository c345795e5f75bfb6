// Git protocol (git://, port 9418; gitprotocol-pack and gitprotocol-common): pkt-lines of a
// 4-hex-digit length (counting itself) and data. The client opens with
// "git-upload-pack /repo.git\0host=server\0"; the server advertises refs ("<40 hex> HEAD\0caps")
// or protocol v2 ("version 2"). The extractor reads the service, repository path and host.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const SERVICES = ['git-upload-pack', 'git-receive-pack', 'git-upload-archive'];
/** LARGE_PACKET_MAX: the longest pkt-line. */
const MAX_PKT = 65520;

/** The first pkt-line's payload; 'need-more' while cut, undefined when these are not pkt-line bytes. */
function pktLine(b: Buffer): Buffer | 'need-more' | undefined {
  for (let i = 0; i < 4; i++) {
    const c = b[i];
    if (c === undefined) return 'need-more';
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
  }
  const length = parseInt(b.toString('latin1', 0, 4), 16);
  if (length < 5 || length > MAX_PKT) return undefined;
  if (b.length < length) return 'need-more';
  return b.subarray(4, length);
}

function request(b: Buffer): { service: string; path: string; host?: string } | 'need-more' | undefined {
  const line = pktLine(b);
  if (line === 'need-more' || line === undefined) return line;
  const text = line.toString('latin1');
  const space = text.indexOf(' ');
  const service = text.slice(0, space);
  if (space < 0 || !SERVICES.includes(service)) return undefined;
  const [path = '', ...extras] = text.slice(space + 1).split('\0');
  if (!/^[!-~][ -~]*$/.test(path)) return undefined;
  const host = extras.find((e) => e.startsWith('host='))?.slice(5);
  return host === undefined ? { service, path } : { service, path, host };
}

function probeAdvertisement(b: Buffer): ProbeResult {
  const line = pktLine(b);
  if (line === 'need-more' || line === undefined) return line === 'need-more' ? 'need-more' : 'no';
  const text = line.toString('latin1');
  if (/^version [12]\n?$/.test(text)) return 'match';
  // "<object id> <refname>\0<capabilities>": the first ref carries the capability list.
  return /^[0-9a-f]{40}( |[0-9a-f]{24} )\S+\0/.test(text) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (dir === 's2c') return probeAdvertisement(data);
  const r = request(data);
  return r === 'need-more' ? 'need-more' : r === undefined ? 'no' : 'match';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const r = request(data);
  if (r === 'need-more') return true;
  if (r === undefined) return false;
  meta.gitService = r.service;
  meta.gitRepository = r.path;
  if (r.host !== undefined) meta.gitHost = r.host;
  return false;
}

export const git: ProtocolModule = {
  name: 'Git',
  transports: ['tcp'],
  ports: [9418],
  probe,
  extract,
};
