import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { initialKeys, quic } from '../../../src/dpi/protocols/quic.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

const DCID = hex('8394c8f03e515708');
// RFC 9001 appendix A.1 and RFC 9369 appendix A.1: client Initial keys for this DCID.
const V1_KEYS = { key: hex('1f369613dd76d5467730efcbe3b1a22d'), iv: hex('fa044b2f42a3fd3b46fb255c'), hp: hex('9f50449e04a0e810283a1e9933adedd2') };
const V2_KEYS = { key: hex('8b1a0bc121284290a29e0971b5cd045d'), iv: hex('91f73e2351d8fa91660e909f'), hp: hex('45b95e15235d6f45a6b19cbcb0294ba9') };

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), u16(body.length), body]);

/** A TLS 1.3 ClientHello handshake message (RFC 8446 4.1.2) with SNI and ALPN "h3". */
function clientHello(): Buffer {
  const sni = Buffer.concat([u16(3 + 15), hex('00'), u16(15), ascii('www.example.org')]);
  const alpn = Buffer.concat([u16(3), hex('02'), ascii('h3')]);
  const exts = Buffer.concat([ext(0, sni), ext(16, alpn), ext(43, hex('02 0304'))]);
  const body = Buffer.concat([hex('0303'), Buffer.alloc(32, 1), hex('00 0002 1301 0100'), u16(exts.length), exts]);
  return Buffer.concat([hex('01 00'), u16(body.length), body]);
}

/**
 * Protects a client Initial as RFC 9001 sections 5.3 and 5.4 describe: AES-128-GCM over the payload
 * with the packet number XORed into the IV, then AES-ECB header protection of the first byte's low
 * bits and the 4-byte packet number. By default the CRYPTO data is split in two frames sent out of order.
 */
const HALF = 40;
const frame = (offset: number, data: Buffer): Buffer => Buffer.concat([hex('06'), Buffer.from([offset]), u16(0x4000 | data.length), data]);
const hello = clientHello();
const bothHalves = Buffer.concat([frame(HALF, hello.subarray(HALF)), frame(0, hello.subarray(0, HALF))]);

function seal(version: number, firstByte: number, keys: typeof V1_KEYS, frames: Buffer = bothHalves): Buffer {
  const pn = hex('00000002');
  const headerLen = 1 + 4 + 1 + DCID.length + 1 + 1 + 2;
  const payload = Buffer.concat([frames, Buffer.alloc(1200 - headerLen - pn.length - frames.length - 16)]);
  const header = Buffer.concat([
    Buffer.from([firstByte]), Buffer.from([version >>> 24, (version >> 16) & 0xff, (version >> 8) & 0xff, version & 0xff]),
    Buffer.from([DCID.length]), DCID, hex('00'), hex('00'), u16(0x4000 | (pn.length + payload.length + 16)), pn,
  ]);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[8 + i] = (nonce[8 + i] as number) ^ (pn[i] as number);
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce).setAAD(header);
  const packet = Buffer.concat([header, gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const pnOffset = headerLen;
  const mask = createCipheriv('aes-128-ecb', keys.hp, null).update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0] = (packet[0] as number) ^ ((mask[0] as number) & 0x0f);
  for (let i = 0; i < 4; i++) packet[pnOffset + i] = (packet[pnOffset + i] as number) ^ (mask[1 + i] as number);
  return packet;
}

// First byte: long header, fixed bit, type Initial (v1: 00, v2: 01), 4-byte packet number.
const v1Initial = seal(1, 0xc3, V1_KEYS);
const v2Initial = seal(0x6b3343cf, 0xd3, V2_KEYS);

test('QUIC derives the RFC 9001 and RFC 9369 client Initial keys', () => {
  assert.deepEqual(initialKeys(1, DCID), V1_KEYS);
  assert.deepEqual(initialKeys(0x6b3343cf, DCID), V2_KEYS);
});

test('QUIC matches a version 1 client Initial', () => {
  assert.equal(quic.probe(v1Initial, 'c2s', ctx('udp')), 'match');
});

test('QUIC matches a Version Negotiation packet', () => {
  // RFC 9000 17.2.1: version 0, connection ids, then supported versions.
  assert.equal(quic.probe(hex('80 00000000 04 01020304 04 05060708 00000001 6b3343cf'), 's2c', ctx('udp')), 'match');
});

test('QUIC rejects a long header with an unknown version', () => {
  const other = Buffer.from(v1Initial);
  other.writeUInt32BE(0x12345678, 1);
  assert.equal(quic.probe(other, 'c2s', ctx('udp')), 'no');
});

test('QUIC rejects a DNS query', () => {
  assert.equal(quic.probe(hex('1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001'), 'c2s', ctx('udp')), 'no');
});

test('QUIC needs more for a cut header', () => {
  assert.equal(quic.probe(hex('c3 000000'), 'c2s', ctx('udp')), 'need-more');
});

test('QUIC decrypts a v1 Initial and reads SNI and ALPN from out-of-order CRYPTO frames', () => {
  assert.deepEqual(extracted(quic, v1Initial, 'c2s', ctx('udp')), {
    quicVersion: '1', sni: 'www.example.org', alpn: ['h3'], tlsVersion: 'TLSv1.3',
  });
});

test('QUIC decrypts a v2 Initial with the v2 salt and labels', () => {
  assert.equal(extracted(quic, v2Initial, 'c2s', ctx('udp')).sni, 'www.example.org');
});

test('QUIC reads nothing from an Initial whose protection fails to verify', () => {
  const broken = Buffer.from(v1Initial);
  broken[broken.length - 1] = (broken[broken.length - 1] as number) ^ 1;
  assert.deepEqual(extracted(quic, broken, 'c2s', ctx('udp')), { quicVersion: '1' });
});

test('QUIC reads a ClientHello whose CRYPTO data spans two Initial packets', () => {
  const first = seal(1, 0xc3, V1_KEYS, frame(0, hello.subarray(0, HALF)));
  const second = seal(1, 0xc3, V1_KEYS, frame(HALF, hello.subarray(HALF)));
  const meta = {};
  assert.equal(quic.extract?.(first, 'c2s', ctx('udp'), meta), true);
  assert.equal(quic.extract?.(second, 'c2s', ctx('udp'), meta), false);
  // The pieces held between packets never reach the flow record.
  assert.deepEqual(JSON.parse(JSON.stringify(meta)), { quicVersion: '1', sni: 'www.example.org', alpn: ['h3'], tlsVersion: 'TLSv1.3' });
  assert.deepEqual(Object.getOwnPropertySymbols(meta), []);
});
