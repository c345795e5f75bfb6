// Apache Spark RPC (standalone master/worker, driver/executor, external shuffle service): Spark's
// network layer frames every message as a TransportFrame: an 8-byte frame length that counts
// itself, a 1-byte message type, the type's header, then the body. Types used here, from
// org.apache.spark.network.protocol.Message.Type:
//   RpcRequest (3):  requestId i64, bodySize i32, body      frame = 8 + 1 + 12 + bodySize
//   RpcResponse (4): requestId i64, bodySize i32, body      frame = 8 + 1 + 12 + bodySize
//   OneWayMessage (9): bodySize i32, body                   frame = 8 + 1 + 4 + bodySize
//   SaslMessage (0xEA = -22): appId (i32 length + UTF-8), bodySize i32, body
// Spark Connect is gRPC and is left to the gRPC module. The extractor records the first type.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const RPC_REQUEST = 3;
const RPC_RESPONSE = 4;
const RPC_FAILURE = 5;
const ONE_WAY = 9;
const SASL = 0xea;
const NAMES: Record<number, string> = { 3: 'RpcRequest', 4: 'RpcResponse', 5: 'RpcFailure', 9: 'OneWayMessage', 0xea: 'SaslMessage' };
/** spark.rpc.message.maxSize tops out at 2047 MB; frames are int-sized. */
const MAX_FRAME = 0x7fffffff;

interface Frame {
  type: number;
  requestId?: bigint;
}

function frame(b: Buffer, dir: Direction): Frame | 'need-more' | undefined {
  if (b.length < 9) {
    // The frame length's high bytes are zero for any frame Spark can send.
    for (let i = 0; i < Math.min(b.length, 4); i++) if (b[i] !== 0) return undefined;
    return 'need-more';
  }
  const length = b.readBigUInt64BE(0);
  const type = b[8] as number;
  if (length > BigInt(MAX_FRAME) || length < 13n) return undefined;
  const requests = [RPC_REQUEST, ONE_WAY, SASL];
  const replies = [RPC_RESPONSE, RPC_FAILURE, SASL];
  if (!(dir === 'c2s' ? requests : replies).includes(type)) return undefined;
  if (type === ONE_WAY) {
    if (b.length < 13) return 'need-more';
    return length === BigInt(13 + b.readInt32BE(9)) ? { type } : undefined;
  }
  if (type === SASL) {
    if (b.length < 13) return 'need-more';
    const appId = b.readInt32BE(9);
    if (appId < 0 || appId > 1024) return undefined;
    if (b.length < 17 + appId) return 'need-more';
    return length === BigInt(17 + appId + b.readInt32BE(13 + appId)) ? { type } : undefined;
  }
  if (b.length < 21) return 'need-more';
  const requestId = b.readBigInt64BE(9);
  const size = b.readInt32BE(17);
  // RpcFailure carries an error string (i32 length + bytes) instead of a body size.
  return size >= 0 && length === BigInt(21 + size) ? { type, requestId } : undefined;
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const f = frame(data, dir);
  if (f === 'need-more') return 'need-more';
  if (f === undefined) return 'no';
  if (dir === 'c2s' || f.type === SASL) return 'match';
  // A response answers the request id the client used.
  const request = frame(ctx.other, 'c2s');
  if (request === 'need-more' || request === undefined) return request === 'need-more' ? 'need-more' : 'no';
  return request.requestId === undefined || request.requestId === f.requestId ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const f = frame(data, dir);
  if (f === 'need-more') return true;
  if (f !== undefined) meta.sparkMessage = NAMES[f.type];
  return false;
}

export const spark: ProtocolModule = {
  name: 'Spark',
  transports: ['tcp'],
  ports: [7077, 7337, 7078],
  probe,
  extract,
};
