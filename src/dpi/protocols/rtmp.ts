// RTMP (Adobe RTMP specification 1.0, section 5.2): the client sends C0 (version 3) and C1
// (1536 bytes: time, zero, random), the server S0, S1 and S2 (an echo of C1), then the client C2
// (an echo of S1). Random bytes prove nothing, so the probe matches on the echo, or on the exact
// C0+C1 size with the server's S0 answering it. The extractor reads the connect command's tcUrl.

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';

const VERSION = 3;
const CHUNK = 1536;
/** C1/S1 random data starts after time (4) and zero (4). */
const RANDOM = 8;

/** `echo` repeats the random part of `original` (both start after their one-byte version). */
function echoes(echo: Buffer, echoAt: number, original: Buffer, originalAt: number): boolean {
  if (echo.length < echoAt + CHUNK || original.length < originalAt + CHUNK) return false;
  return echo.subarray(echoAt + RANDOM, echoAt + CHUNK).equals(original.subarray(originalAt + RANDOM, originalAt + CHUNK));
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const version = data[0];
  if (version === undefined) return 'need-more';
  if (version !== VERSION) return 'no';
  if (dir === 'c2s') {
    if (data.length < 1 + CHUNK) return 'need-more';
    // The client waits for S1 after C0+C1: a longer stream before the server answered is not RTMP.
    if (ctx.other.length === 0) return data.length === 1 + CHUNK ? 'need-more' : 'no';
    if (ctx.other[0] !== VERSION) return 'no';
    if (data.length >= 1 + 2 * CHUNK) return echoes(data, 1 + CHUNK, ctx.other, 1) ? 'match' : 'no';
    return ctx.other.length >= 1 + CHUNK ? 'match' : 'need-more';
  }
  if (data.length < 1 + 2 * CHUNK) return 'need-more';
  if (ctx.other[0] !== VERSION || ctx.other.length < 1 + CHUNK) return ctx.other.length === 0 ? 'need-more' : 'no';
  // S2 echoes C1 in the plain handshake; the digest handshake (Flash Player) answers differently,
  // but then C1 and S1 both carry a version in place of the zero field.
  if (echoes(data, 1 + CHUNK, ctx.other, 1)) return 'match';
  return data.readUInt32BE(5) !== 0 && ctx.other.readUInt32BE(5) !== 0 ? 'match' : 'no';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir !== 'c2s') return false;
  // The connect command (AMF0) follows C2; its command object holds tcUrl as an AMF0 string.
  const start = 1 + 2 * CHUNK;
  if (data.length <= start) return true;
  const key = data.indexOf('\x00\x05tcUrl\x02', start, 'latin1');
  if (key < 0) return data.length < start + 1024;
  const at = key + 8;
  if (at + 2 > data.length) return true;
  const len = data.readUInt16BE(at);
  if (at + 2 + len > data.length) return true;
  meta.rtmpUrl = data.toString('utf8', at + 2, at + 2 + len);
  return false;
}

export const rtmp: ProtocolModule = {
  name: 'RTMP',
  transports: ['tcp'],
  ports: [1935],
  // C0 and S0 are the version byte.
  firstBytes: { c2s: [VERSION], s2c: [VERSION] },
  probe,
  extract,
};
