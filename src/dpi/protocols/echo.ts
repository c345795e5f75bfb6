// Echo (RFC 862): the server sends back exactly what the client sent. The client's bytes alone
// prove nothing, so the probe waits for the server and compares. Over UDP each reply is one
// datagram equal to the client's first one.

import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** Fewer echoed bytes than this could be a coincidence of short messages. */
const MIN_ECHO = 4;

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  if (dir === 'c2s') return 'need-more';
  const sent = ctx.other;
  // A server that speaks before the client is not echoing.
  if (sent.length === 0) return 'no';
  if (ctx.transport !== 'tcp') return data.length >= MIN_ECHO && data.equals(sent) ? 'match' : 'no';
  const n = Math.min(data.length, sent.length);
  if (!data.subarray(0, n).equals(sent.subarray(0, n)) || data.length > sent.length) return 'no';
  return n >= MIN_ECHO ? 'match' : 'need-more';
}

export const echo: ProtocolModule = {
  name: 'Echo',
  transports: ['tcp', 'udp'],
  ports: [7],
  probe,
};
