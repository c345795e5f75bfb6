// HTTP/2 over cleartext TCP (RFC 9113 section 3.4): the client connection preface. (h2 inside TLS
// is identified as TLS, with "h2" in its ALPN.) The frame walker and header-block decoding here
// also serve gRPC, which refines HTTP/2; the extractor reads the first request's pseudo-headers.

import { literal, u24, u32 } from '../bytes.js';
import { HpackDecoder } from '../hpack.js';
import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

export const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

const HEADERS = 0x1;
const SETTINGS = 0x4;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/**
 * The header blocks of one direction's frames, decoded in order (HPACK state carries across
 * blocks). `cut` says the prefix ends inside a frame or an unfinished header block.
 */
export function headerBlocks(stream: Buffer, dir: Direction): { blocks: Array<Array<[string, string]>>; cut: boolean } | undefined {
  let at = dir === 'c2s' ? PREFACE.length : 0;
  const decoder = new HpackDecoder();
  const blocks: Array<Array<[string, string]>> = [];
  let pending: Buffer[] = [];
  for (let frames = 0; frames < 64; frames++) {
    if (at + 9 > stream.length) return { blocks, cut: at < stream.length || pending.length > 0 };
    const len = u24(stream, at);
    const type = stream[at + 3] as number;
    const flags = stream[at + 4] as number;
    const end = at + 9 + len;
    if (end > stream.length) return { blocks, cut: true };
    if (type === HEADERS || (type === CONTINUATION && pending.length > 0)) {
      let start = at + 9;
      let stop = end;
      if (type === HEADERS && flags & PADDED) stop -= 1 + (stream[start++] ?? 0);
      if (type === HEADERS && flags & PRIORITY) start += 5;
      if (stop < start) return undefined;
      pending.push(stream.subarray(start, stop));
      if (flags & END_HEADERS) {
        const block = decoder.decode(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
        if (block === undefined) return undefined;
        blocks.push(block);
        pending = [];
      }
    } else if (pending.length > 0) {
      return undefined;
    }
    at = end;
  }
  return { blocks, cut: false };
}

function probe(data: Buffer, dir: Direction): ProbeResult {
  if (dir === 'c2s') return literal(data, PREFACE);
  // The server's preface is a SETTINGS frame on stream 0; alone it proves too little to match.
  if (data.length < 9) return 'need-more';
  const settings = data[3] === SETTINGS && u32(data, 5) === 0 && u24(data, 0) % 6 === 0;
  return settings ? 'need-more' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s' && literal(data, PREFACE) !== 'match') return false;
  const found = headerBlocks(data, dir);
  if (found === undefined) return false;
  const first = found.blocks[0];
  if (first === undefined) return found.cut || data.length < 4096;
  for (const [name, value] of first) {
    if (dir === 's2c') {
      if (name === ':status') meta.httpStatus = Number(value);
      continue;
    }
    if (name === ':method') meta.httpMethod = value;
    else if (name === ':authority') meta.httpHost = value;
    else if (name === ':path') meta.httpPath = value;
    else if (name === 'user-agent') meta.httpUserAgent = value;
  }
  return false;
}

export const http2: ProtocolModule = {
  name: 'HTTP2',
  aliases: ['HTTP/2', 'h2c'],
  transports: ['tcp'],
  ports: [80, 8080],
  // The client's connection preface; the server's SETTINGS frame has no fixed first byte.
  firstBytes: { c2s: [PREFACE.charCodeAt(0)] },
  probe,
  extract,
};
