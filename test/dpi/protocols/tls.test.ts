import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tls } from '../../../src/dpi/protocols/tls.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const ext = (type: number, body: Buffer): Buffer => Buffer.concat([u16(type), u16(body.length), body]);

/** RFC 8446 section 5.1 TLSPlaintext (handshake, legacy version 3.1) around section 4 Handshake. */
function record(type: number, body: Buffer): Buffer {
  const hs = Buffer.concat([Buffer.from([type]), u24(body.length), body]);
  return Buffer.concat([hex('16 0301'), u16(hs.length), hs]);
}

// Section 4.1.2 ClientHello: legacy_version 0x0303, random, empty session id, one cipher suite,
// null compression, then extensions: server_name (RFC 6066 section 3), ALPN (RFC 7301 section 3.1),
// supported_versions (section 4.2.1) offering GREASE 0x0a0a, TLS 1.3 and 1.2.
const sni = Buffer.concat([u16(3 + 11), hex('00'), u16(11), ascii('example.com')]);
const alpn = Buffer.concat([u16(12), hex('02'), ascii('h2'), hex('08'), ascii('http/1.1')]);
const versions = hex('06 0a0a 0304 0303');
const extensions = Buffer.concat([ext(0, sni), ext(16, alpn), ext(43, versions)]);
const clientHello = record(1, Buffer.concat([hex('0303'), Buffer.alloc(32), hex('00'), hex('0004 1301 1302'), hex('01 00'), u16(extensions.length), extensions]));

// Section 4.1.3 ServerHello: chosen cipher TLS_AES_128_GCM_SHA256 and supported_versions 0x0304.
const serverExt = ext(43, hex('0304'));
const serverHello = record(2, Buffer.concat([hex('0303'), Buffer.alloc(32), hex('00'), hex('1301'), hex('00'), u16(serverExt.length), serverExt]));

test('TLS matches a ClientHello from the client', () => {
  assert.equal(tls.probe(clientHello, 'c2s', ctx()), 'match');
});

test('TLS matches a ServerHello from the server', () => {
  assert.equal(tls.probe(serverHello, 's2c', ctx()), 'match');
});

test('TLS matches a run of application data records begun mid-session', () => {
  const records = Buffer.concat([hex('17 0303 0004 aabbccdd'), hex('17 0303 0002 eeff')]);
  assert.equal(tls.probe(records, 's2c', ctx()), 'match');
});

test('TLS matches an SSLv2-compatible ClientHello', () => {
  // RFC 5246 appendix E.2: msg_length, msg_type 1, version 3.1, 3-byte cipher specs, 16-byte challenge.
  const v2 = Buffer.concat([hex('801c 01 0301 0003 0000 0010 00002f'), Buffer.alloc(16, 7)]);
  assert.equal(tls.probe(v2, 'c2s', ctx()), 'match');
});

test('TLS rejects a DTLS record, whose version is 0xfefd', () => {
  assert.equal(tls.probe(hex('16 fefd 0000 0000 0000 0001 0040 01'), 'c2s', ctx()), 'no');
});

test('TLS matches a ServerHello in the client direction, where a mid-connection capture puts it', () => {
  assert.equal(tls.probe(serverHello, 'c2s', ctx()), 'match');
});

test('TLS rejects a stream that opens with a handshake message other than a hello', () => {
  // Handshake type 11 (Certificate) cannot open a connection.
  assert.equal(tls.probe(hex('16 0303 0030 0b 00002c 0303'), 's2c', ctx()), 'no');
});

test('TLS rejects an HTTP request', () => {
  assert.equal(tls.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('TLS needs more for a cut record header', () => {
  assert.equal(tls.probe(hex('16 03'), 'c2s', ctx()), 'need-more');
  assert.equal(tls.probe(hex('17 0303 0004 aabbccdd'), 's2c', ctx()), 'need-more');
});

test('TLS extracts SNI, ALPN and the best offered version from the ClientHello', () => {
  assert.deepEqual(extracted(tls, clientHello, 'c2s'), { sni: 'example.com', alpn: ['h2', 'http/1.1'], tlsVersion: 'TLSv1.3' });
});

test('TLS takes the version and cipher the server chose', () => {
  const meta = extracted(tls, serverHello, 's2c', ctx(), { tlsVersion: 'TLSv1.2' });
  assert.deepEqual(meta, { tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_128_GCM_SHA256' });
});

test('TLS reads a ClientHello split across two records', () => {
  const whole = clientHello.subarray(5);
  const split = Buffer.concat([hex('16 0301'), u16(40), whole.subarray(0, 40), hex('16 0301'), u16(whole.length - 40), whole.subarray(40)]);
  assert.equal(extracted(tls, split, 'c2s').sni, 'example.com');
});
