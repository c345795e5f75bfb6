import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ike } from '../../../src/dpi/protocols/ike.js';
import { ctx, extracted, hex } from '../helpers.js';

/** RFC 7296 3.1 header: SPIi, SPIr, next payload, version, exchange, flags, message id, length. */
function header(next: number, version: number, exchange: number, body: Buffer): Buffer {
  const h = Buffer.concat([hex('0102030405060708 0000000000000000'), Buffer.from([next, version, exchange, 0x08]), hex('00000000'), Buffer.alloc(4)]);
  h.writeUInt32BE(28 + body.length, 24);
  return Buffer.concat([h, body]);
}

// IKEv2 IKE_SA_INIT (34) with next payload SA (33), initiator flag, and a stub payload body.
const saInit = header(33, 0x20, 34, Buffer.alloc(20, 0));
// IKEv1 Identity Protection (Main Mode, 2) with next payload SA (1).
const mainMode = header(1, 0x10, 2, Buffer.alloc(40, 0));

test('IKE matches an IKEv2 IKE_SA_INIT', () => {
  assert.equal(ike.probe(saInit, 'c2s', ctx('udp')), 'match');
});

test('IKE matches an IKEv1 Main Mode message', () => {
  assert.equal(ike.probe(mainMode, 'c2s', ctx('udp')), 'match');
});

test('IKE matches after the non-ESP marker on port 4500 (RFC 3948)', () => {
  assert.equal(ike.probe(Buffer.concat([hex('00000000'), saInit]), 'c2s', ctx('udp', Buffer.alloc(0), 4500)), 'match');
});

test('IKE rejects a header whose length disagrees with the datagram', () => {
  assert.equal(ike.probe(Buffer.concat([saInit, hex('00')]), 'c2s', ctx('udp')), 'no');
});

test('IKE rejects an IKEv2 header with an IKEv1 exchange type', () => {
  assert.equal(ike.probe(header(33, 0x20, 2, Buffer.alloc(20)), 'c2s', ctx('udp')), 'no');
});

test('IKE waits on a NAT keepalive', () => {
  assert.equal(ike.probe(hex('ff'), 'c2s', ctx('udp')), 'need-more');
});

test('IKE extracts version and exchange', () => {
  assert.deepEqual(extracted(ike, saInit, 'c2s', ctx('udp')), { ikeVersion: 2, ikeExchange: 'IKE_SA_INIT' });
});
