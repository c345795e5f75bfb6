// Elasticsearch transport protocol (node-to-node and transport clients, port 9300): every message
// starts with the marker "ES", a 4-byte message length (-1 for a ping), a request id, a status
// byte and the sender's version id. The extractor records that version id.

import { literal } from '../bytes.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

/** The transport's default maximum content length is far below this. */
const MAX_MESSAGE = 1 << 30;
/** Status bits: request/response, error, compressed, handshake. */
const STATUS_BITS = 0x0f;

/** Version ids are major*1000000 + minor*10000 + revision*100 + build: 5.x through 9.x. */
function plausibleVersion(id: number): boolean {
  return id >= 5_000_000 && id < 10_000_000;
}

function probe(data: Buffer): ProbeResult {
  const marker = literal(data, 'ES');
  if (marker !== 'match') return marker;
  if (data.length < 6) return 'need-more';
  const length = data.readInt32BE(2);
  if (length === -1) return data.length === 6 ? 'match' : 'no';
  if (length < 13 || length > MAX_MESSAGE) return 'no';
  if (data.length < 19) return 'need-more';
  if (((data[14] as number) & ~STATUS_BITS) !== 0) return 'no';
  return plausibleVersion(data.readInt32BE(15)) ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (data.length < 19) return data.length < 6 || data.readInt32BE(2) !== -1;
  if (probe(data) === 'match') meta[dir === 'c2s' ? 'elasticsearchClientVersionId' : 'elasticsearchServerVersionId'] = data.readInt32BE(15);
  return false;
}

export const elasticsearchTransport: ProtocolModule = {
  name: 'ElasticsearchTransport',
  transports: ['tcp'],
  ports: [9300],
  // Every message starts with the "ES" marker.
  firstBytes: { c2s: [0x45], s2c: [0x45] },
  probe,
  extract,
};
