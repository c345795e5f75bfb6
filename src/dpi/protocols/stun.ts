// STUN (RFC 8489 section 5; also TURN, RFC 8656, and ICE checks): a 20-byte header whose first two
// bits are zero, whose length is a multiple of 4 covering exactly the attributes that follow, and
// which carries the magic cookie 0x2112A442. Over TCP messages follow each other unframed.

import { u16, u32 } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const MAGIC_COOKIE = 0x2112a442;
const CLASSES = ['request', 'indication', 'success', 'error'];

const TYPE_FIRST_BYTES = Array.from({ length: 0x40 }, (_, b) => b);

function probe(data: Buffer, _dir: Direction, ctx: ProbeContext): ProbeResult {
  if (data.length < 20) return data.length > 0 && ((data[0] as number) & 0xc0) !== 0 ? 'no' : 'need-more';
  const type = u16(data, 0);
  const len = u16(data, 2);
  if (type & 0xc000 || len % 4 !== 0 || u32(data, 4) !== MAGIC_COOKIE) return 'no';
  // A datagram holds exactly one message; a stream prefix holds at least one.
  if (ctx.transport === 'udp') return data.length === 20 + len ? 'match' : 'no';
  return 'match';
}

function extract(data: Buffer, _dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const type = u16(data, 0);
  if (type < 0) return false;
  // Class bits are C1 (bit 8) and C0 (bit 4); the method is the remaining 12 bits.
  const cls = ((type >> 7) & 2) | ((type >> 4) & 1);
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  meta.stunMethod ??= method === 1 ? 'binding' : `0x${method.toString(16).padStart(3, '0')}`;
  meta.stunClass ??= CLASSES[cls];
  return false;
}

export const stun: ProtocolModule = {
  name: 'STUN',
  aliases: ['TURN'],
  transports: ['udp', 'tcp'],
  ports: [3478, 3479, 5349],
  // The two top bits of every STUN message are zero.
  firstBytes: { c2s: TYPE_FIRST_BYTES, s2c: TYPE_FIRST_BYTES },
  probe,
  extract,
};
