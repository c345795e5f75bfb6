// SSDP (UPnP Device Architecture): HTTP-formatted messages over UDP to 239.255.255.250:1900:
// "M-SEARCH * HTTP/1.1" searches, "NOTIFY * HTTP/1.1" announcements and unicast
// "HTTP/1.1 200 OK" answers carrying ST/USN. The extractor reads the search or notification
// target, the device's server string and its description location.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { parseHead, type HttpHead } from './http.js';

function probe(data: Buffer): ProbeResult {
  const head = parseHead(data);
  if (head === undefined) return 'no';
  if (head.method === 'M-SEARCH' || head.method === 'NOTIFY') {
    if (head.target !== '*' || !data.includes('HTTP/1.1\r', 0, 'latin1')) return 'no';
    // A search names MAN "ssdp:discover" and ST; an announcement names NT and NTS.
    return head.headers.has('st') || head.headers.has('nt') || head.headers.has('man') ? 'match' : 'no';
  }
  if (head.status === 200) return head.headers.has('st') && head.headers.has('usn') ? 'match' : 'no';
  return 'no';
}

function target(head: HttpHead): string | undefined {
  return head.headers.get('st') ?? head.headers.get('nt');
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const head = parseHead(data);
  if (head === undefined) return false;
  const t = target(head);
  const server = head.headers.get('server') ?? head.headers.get('user-agent');
  const location = head.headers.get('location');
  if (head.method !== undefined) meta.ssdpMethod = head.method;
  if (t !== undefined) meta.ssdpTarget = t;
  if (server !== undefined) meta.ssdpServer = server;
  if (location !== undefined) meta.ssdpLocation = location;
  return false;
}

export const ssdp: ProtocolModule = {
  name: 'SSDP',
  transports: ['udp'],
  ports: [1900],
  // Only M-SEARCH and NOTIFY requests and "HTTP/1.1 200" answers are SSDP.
  firstBytes: { c2s: [0x4d, 0x4e, 0x48], s2c: [0x4d, 0x4e, 0x48] },
  probe,
  extract,
};
