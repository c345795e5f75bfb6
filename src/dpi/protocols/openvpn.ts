// OpenVPN (the wire protocol as OpenVPN's protocol documentation describes it): each
// side opens with a hard reset, opcode << 3 | key_id with opcodes 7/10 (client) and 8 (server), then
// an 8-byte session id. Plain: the ack array (empty from the client) and message packet-id 0 follow.
// tls-auth puts an HMAC (16, 20, 32 or 64 bytes) and then the replay packet-id 1 first; tls-crypt
// puts the replay packet-id 1 right after the session id. Over TCP a 2-byte length precedes each.

import { u16, u32 } from '../bytes.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const HARD_RESET_CLIENT_V2 = 7;
const HARD_RESET_SERVER_V2 = 8;
const HARD_RESET_CLIENT_V3 = 10;
const HMAC_SIZES = [16, 20, 32, 64];

function packet(data: Buffer, ctx: ProbeContext): Buffer | 'need-more' | undefined {
  if (ctx.transport !== 'tcp') return data;
  const len = u16(data, 0);
  if (len < 0) return 'need-more';
  if (len < 14 || len > 1600) return undefined;
  return data.length < 2 + len ? 'need-more' : data.subarray(2, 2 + len);
}

function hardReset(p: Buffer, dir: Direction): boolean {
  const opcode = (p[0] as number) >> 3;
  const keyId = (p[0] as number) & 7;
  const wanted = dir === 'c2s' ? [HARD_RESET_CLIENT_V2, HARD_RESET_CLIENT_V3] : [HARD_RESET_SERVER_V2];
  if (!wanted.includes(opcode) || keyId !== 0 || p.length < 14) return false;
  // Plain: session id, ack array length 0 (client) and message packet-id 0.
  if (dir === 'c2s' && p.length === 14 && p[9] === 0 && u32(p, 10) === 0) return true;
  // Plain server reply: one ack (count 1, the client's packet-id 0, its session id), packet-id 0.
  if (dir === 's2c' && p.length === 26 && p[9] === 1 && u32(p, 10) === 0 && u32(p, 22) === 0) return true;
  // tls-crypt: replay packet-id 1 right after the session id (then time, 32-byte tag, ciphertext).
  if (u32(p, 9) === 1 && p.length >= 9 + 8 + 32 + 5) return true;
  // tls-auth: HMAC, then replay packet-id 1 and time, then the plain fields.
  return HMAC_SIZES.some((h) => u32(p, 9 + h) === 1 && p.length >= 9 + h + 8 + 5);
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const p = packet(data, ctx);
  if (p === undefined || p === 'need-more') return p ?? 'no';
  if (hardReset(p, dir)) return 'match';
  // A client reset in a wrapping this probe does not know (tls-crypt-v2 carries a wrapped key):
  // the server's reset, which has one of the known forms, decides.
  const opcode = (p[0] as number) >> 3;
  const clientReset = (opcode === HARD_RESET_CLIENT_V2 || opcode === HARD_RESET_CLIENT_V3) && ((p[0] as number) & 7) === 0;
  return dir === 'c2s' && clientReset ? 'need-more' : 'no';
}

export const openvpn: ProtocolModule = {
  name: 'OpenVPN',
  transports: ['udp', 'tcp'],
  ports: [1194],
  probe,
};
