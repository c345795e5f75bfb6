// gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): a request or response whose content-type is
// application/grpc (optionally "+proto", "+json", ...). Refines HTTP2; the extractor splits the
// request's ":path" of "/package.Service/Method" into service and method.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { headerBlocks } from './http2.js';

function isGrpc(contentType: string): boolean {
  const t = contentType.toLowerCase();
  return t === 'application/grpc' || t.startsWith('application/grpc+') || t.startsWith('application/grpc;');
}

/** 'match' when the direction's first header block declares gRPC, 'no' when it declares otherwise. */
function firstBlock(stream: Buffer, dir: Direction): ProbeResult {
  if (stream.length === 0) return 'need-more';
  const found = headerBlocks(stream, dir);
  if (found === undefined) return 'no';
  const first = found.blocks[0];
  if (first === undefined) return 'need-more';
  const type = first.find(([n]) => n === 'content-type')?.[1];
  return type !== undefined && isGrpc(type) ? 'match' : 'no';
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const here = firstBlock(data, dir);
  if (here !== 'need-more') return here;
  return firstBlock(ctx.other, dir === 'c2s' ? 's2c' : 'c2s');
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  const found = headerBlocks(data, dir);
  const path = found?.blocks[0]?.find(([n]) => n === ':path')?.[1];
  if (path === undefined) return found?.cut === true;
  const m = /^\/([^/]+)\/([^/?]+)$/.exec(path);
  if (m !== null) {
    meta.grpcService = m[1];
    meta.grpcMethod = m[2];
  }
  return false;
}

export const grpc: ProtocolModule = {
  name: 'gRPC',
  transports: ['tcp'],
  refines: 'HTTP2',
  probe,
  extract,
};
