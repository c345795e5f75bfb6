// WebSocket (RFC 6455 section 4): an HTTP/1.1 session whose request carries "Upgrade: websocket"
// and whose response is "101 Switching Protocols". Refines HTTP: it only runs after HTTP matched,
// and the extractor adds the negotiated subprotocol.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { parseHead, type HttpHead } from './http.js';

function upgradesToWebSocket(head: HttpHead): boolean {
  const upgrade = head.headers.get('upgrade');
  return upgrade !== undefined && upgrade.toLowerCase().split(',').some((t) => t.trim() === 'websocket');
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const request = parseHead(dir === 'c2s' ? data : ctx.other);
  const response = parseHead(dir === 's2c' ? data : ctx.other);
  if (request?.complete && (request.method !== 'GET' || !upgradesToWebSocket(request))) return 'no';
  if (response?.status !== undefined && response.status !== 101) return 'no';
  return request?.complete === true && response?.status === 101 ? 'match' : 'need-more';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 's2c') return false;
  const head = parseHead(data);
  const sub = head?.headers.get('sec-websocket-protocol');
  if (sub !== undefined) meta.websocketProtocol = sub;
  return head?.complete !== true;
}

export const websocket: ProtocolModule = {
  name: 'WebSocket',
  transports: ['tcp'],
  refines: 'HTTP',
  probe,
  extract,
};
