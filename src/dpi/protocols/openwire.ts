// ActiveMQ OpenWire: both sides open with a size-prefixed WireFormatInfo command (data type 1)
// whose payload starts with the magic "ActiveMQ" and the wire format version. The extractor
// records that version.

import { literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const WIREFORMAT_INFO = 1;
const MAGIC = 'ActiveMQ';

/** The WireFormatInfo's version, 'need-more' while cut, undefined when these are not its bytes. */
function wireFormatVersion(b: Buffer): number | 'need-more' | undefined {
  if (b.length < 5) return 'need-more';
  const size = b.readUInt32BE(0);
  if (size < 13 || size > 65536 || b[4] !== WIREFORMAT_INFO) return undefined;
  const magic = literal(b, MAGIC, 5);
  if (magic !== 'match') return magic === 'need-more' ? 'need-more' : undefined;
  if (b.length < 17) return 'need-more';
  const version = b.readInt32BE(13);
  return version >= 1 && version <= 64 ? version : undefined;
}

function probe(data: Buffer): ProbeResult {
  const v = wireFormatVersion(data);
  return v === 'need-more' ? 'need-more' : v === undefined ? 'no' : 'match';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  const v = wireFormatVersion(data);
  if (v === 'need-more') return true;
  if (v !== undefined) meta[dir === 'c2s' ? 'openwireClientVersion' : 'openwireServerVersion'] = v;
  return false;
}

export const openwire: ProtocolModule = {
  name: 'OpenWire',
  aliases: ['ActiveMQ'],
  transports: ['tcp'],
  ports: [61616],
  probe,
  extract,
};
