import { test } from 'node:test';
import assert from 'node:assert/strict';
import { radius } from '../../../src/dpi/protocols/radius.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** An attribute: type, length (2 + value), value. */
function attr(type: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, 2 + value.length]), value]);
}

/** Packet: code, identifier, length (whole packet), 16-byte authenticator, attributes. */
function packet(code: number, attrs: Buffer): Buffer {
  const h = Buffer.alloc(20, 0x5a);
  h[0] = code;
  h[1] = 7;
  h.writeUInt16BE(20 + attrs.length, 2);
  return Buffer.concat([h, attrs]);
}

// Access-Request: User-Name (1), User-Password (2, 16 bytes), NAS-Identifier (32).
const accessRequest = packet(1, Buffer.concat([attr(1, ascii('alice')), attr(2, Buffer.alloc(16, 1)), attr(32, ascii('ap-3'))]));

test('RADIUS matches an Access-Request whose attributes fill the length', () => {
  assert.equal(radius.probe(accessRequest, 'c2s', ctx('udp')), 'match');
});

test('RADIUS matches an Access-Accept', () => {
  assert.equal(radius.probe(packet(2, attr(18, ascii('welcome'))), 's2c', ctx('udp')), 'match');
});

test('RADIUS rejects a packet whose last attribute overruns the length', () => {
  const bad = Buffer.from(accessRequest);
  bad[bad.length - 5] = 9;
  assert.equal(radius.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('RADIUS rejects a DNS query', () => {
  assert.equal(radius.probe(hex('1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001'), 'c2s', ctx('udp')), 'no');
});

test('RADIUS rejects a datagram shorter than the header', () => {
  assert.equal(radius.probe(accessRequest.subarray(0, 12), 'c2s', ctx('udp')), 'no');
});

test('RADIUS extracts the request kind, user and NAS', () => {
  assert.deepEqual(extracted(radius, accessRequest, 'c2s', ctx('udp')), { radiusRequest: 'Access-Request', radiusUser: 'alice', radiusNas: 'ap-3' });
});
