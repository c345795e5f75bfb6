import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openwire } from '../../../src/dpi/protocols/openwire.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** WireFormatInfo: size i32, data type 1, magic "ActiveMQ", version i32, marshalled properties. */
function wireFormatInfo(version: number): Buffer {
  const body = Buffer.concat([hex('01'), ascii('ActiveMQ'), Buffer.alloc(4), hex('01 00000000')]);
  body.writeInt32BE(version, 9);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length);
  return Buffer.concat([size, body]);
}

test('OpenWire matches a WireFormatInfo from the client', () => {
  assert.equal(openwire.probe(wireFormatInfo(12), 'c2s', ctx()), 'match');
});

test('OpenWire matches a WireFormatInfo from the broker', () => {
  assert.equal(openwire.probe(wireFormatInfo(12), 's2c', ctx()), 'match');
});

test('OpenWire rejects a command other than WireFormatInfo first', () => {
  const other = wireFormatInfo(12);
  other[4] = 3;
  assert.equal(openwire.probe(other, 'c2s', ctx()), 'no');
});

test('OpenWire rejects a STOMP frame', () => {
  assert.equal(openwire.probe(ascii('CONNECT\naccept-version:1.2\n\n\0'), 'c2s', ctx()), 'no');
});

test('OpenWire needs more while the magic is cut', () => {
  assert.equal(openwire.probe(wireFormatInfo(12).subarray(0, 9), 'c2s', ctx()), 'need-more');
});

test('OpenWire extracts the wire format version of each side', () => {
  assert.deepEqual(extracted(openwire, wireFormatInfo(12), 'c2s'), { openwireClientVersion: 12 });
});
