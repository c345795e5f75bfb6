import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rtmp } from '../../../src/dpi/protocols/rtmp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** A 1536-byte C1/S1: time (4), zero (4), pseudo-random bytes from a seed. */
function chunk(seed: number): Buffer {
  const b = Buffer.alloc(1536);
  b.writeUInt32BE(seed, 0);
  for (let i = 8; i < 1536; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** An echo (C2/S2): time of the original, time2, then the original's random bytes. */
function echo(of: Buffer): Buffer {
  const b = Buffer.from(of);
  b.writeUInt32BE(77, 4);
  return b;
}

const c1 = chunk(1);
const s1 = chunk(2);
const c0c1 = Buffer.concat([hex('03'), c1]);
const s0s1s2 = Buffer.concat([hex('03'), s1, echo(c1)]);
// AMF0 connect command after C2: the command object carries tcUrl as an AMF0 string (0x02).
const connect = Buffer.concat([hex('03 000000 0000b4 14 00000000 02 0007'), ascii('connect'), hex('00 3ff0000000000000 03 0005'), ascii('tcUrl'), hex('02 001a'), ascii('rtmp://live.example/app/x1')]);

test('RTMP matches the server handshake whose S2 echoes C1', () => {
  assert.equal(rtmp.probe(s0s1s2, 's2c', ctx('tcp', c0c1)), 'match');
});

test('RTMP matches the client handshake whose C2 echoes S1', () => {
  assert.equal(rtmp.probe(Buffer.concat([c0c1, echo(s1)]), 'c2s', ctx('tcp', s0s1s2)), 'match');
});

test('RTMP rejects an S2 that does not echo C1 in a plain handshake', () => {
  const wrong = Buffer.concat([hex('03'), s1, chunk(9)]);
  assert.equal(rtmp.probe(wrong, 's2c', ctx('tcp', c0c1)), 'no');
});

test('RTMP rejects a client that keeps sending before the server answered', () => {
  assert.equal(rtmp.probe(Buffer.concat([c0c1, ascii('more')]), 'c2s', ctx()), 'no');
});

test('RTMP needs more until C0 and C1 are complete', () => {
  assert.equal(rtmp.probe(c0c1.subarray(0, 700), 'c2s', ctx()), 'need-more');
});

test('RTMP extracts tcUrl from the connect command', () => {
  assert.deepEqual(extracted(rtmp, Buffer.concat([c0c1, echo(s1), connect]), 'c2s'), { rtmpUrl: 'rtmp://live.example/app/x1' });
});
