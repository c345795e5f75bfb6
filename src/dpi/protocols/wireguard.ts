// WireGuard (the protocol paper, section 5.4): a message type byte 1..4 followed by three zero
// bytes, with fixed sizes for handshake initiation (148), response (92) and cookie reply (64);
// transport data is 32 bytes of header and tag plus a payload padded to 16 bytes.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const SIZES: Record<number, number> = { 1: 148, 2: 92, 3: 64 };
const NAMES: Record<number, string> = { 1: 'handshake-initiation', 2: 'handshake-response', 3: 'cookie-reply', 4: 'transport-data' };

function probe(data: Buffer): ProbeResult {
  if (data.length < 4) return 'no';
  const type = data[0] as number;
  if (type < 1 || type > 4 || data[1] !== 0 || data[2] !== 0 || data[3] !== 0) return 'no';
  if (type === 4) return data.length >= 32 && (data.length - 32) % 16 === 0 ? 'match' : 'no';
  return data.length === SIZES[type] ? 'match' : 'no';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (probe(data) === 'match') meta.wireguardMessage ??= NAMES[data[0] as number];
  return false;
}

export const wireguard: ProtocolModule = {
  name: 'WireGuard',
  transports: ['udp'],
  ports: [51820],
  // The message type (1 to 4) is the first byte.
  firstBytes: { c2s: [1, 2, 3, 4], s2c: [1, 2, 3, 4] },
  probe,
  extract,
};
