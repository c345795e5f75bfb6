// Telnet (RFC 854, RFC 855): option negotiation "IAC WILL|WONT|DO|DONT option" or a
// subnegotiation "IAC SB option", which both sides usually send first. Sessions that open
// with plain text carry nothing a probe can tell apart from other line protocols.

import type { ProbeResult, ProtocolModule } from '../types.js';

const IAC = 255;
/** SB (250), WILL (251), WONT (252), DO (253), DONT (254). */
const SB = 250;
const DONT = 254;
/** Options are registered up to 49 (IANA telnet-options), plus EXOPL (255). */
const knownOption = (o: number): boolean => o <= 49 || o === 255;

function probe(data: Buffer): ProbeResult {
  for (let i = 0; i < 3; i++) {
    const c = data[i];
    if (c === undefined) return 'need-more';
    const ok = i === 0 ? c === IAC : i === 1 ? c >= SB && c <= DONT : knownOption(c);
    if (!ok) return 'no';
  }
  return 'match';
}

export const telnet: ProtocolModule = {
  name: 'Telnet',
  transports: ['tcp'],
  ports: [23],
  probe,
};
