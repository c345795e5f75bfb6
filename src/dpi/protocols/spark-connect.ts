// Spark Connect (Apache Spark 3.4+, port 15002): gRPC over HTTP/2 calling the service
// spark.connect.SparkConnectService (ExecutePlan, AnalyzePlan, Config, ...). Refines HTTP2 and
// must be listed before gRPC, which would claim the same request; the extractor names the call.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { headerBlocks } from './http2.js';

const SERVICE = '/spark.connect.SparkConnectService/';

/** The :path of the client's first request, 'need-more' before its header block, undefined when unreadable. */
function firstPath(stream: Buffer): string | 'need-more' | undefined {
  if (stream.length === 0) return 'need-more';
  const found = headerBlocks(stream, 'c2s');
  if (found === undefined) return undefined;
  const first = found.blocks[0];
  if (first === undefined) return 'need-more';
  return first.find(([n]) => n === ':path')?.[1];
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  // Only requests carry the path; a response is judged by the request it answers.
  const path = firstPath(dir === 'c2s' ? data : ctx.other);
  if (path === 'need-more') return 'need-more';
  return path !== undefined && path.startsWith(SERVICE) ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const path = firstPath(data);
  if (path === 'need-more') return true;
  if (path !== undefined && path.startsWith(SERVICE)) meta.sparkConnectMethod = path.slice(SERVICE.length);
  return false;
}

export const sparkConnect: ProtocolModule = {
  name: 'SparkConnect',
  transports: ['tcp'],
  ports: [15002],
  refines: 'HTTP2',
  probe,
  extract,
};
