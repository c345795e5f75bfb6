import { test } from 'node:test';
import assert from 'node:assert/strict';
import { thrift } from '../../../src/dpi/protocols/thrift.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Binary protocol, strict: version 0x8001 | type, name (i32 length + bytes), seqid, then a stop field. */
function binary(type: number, name: string): Buffer {
  const h = hex('80 01 00 00 00000000');
  h[3] = type;
  h.writeInt32BE(name.length, 4);
  return Buffer.concat([h, ascii(name), hex('00000001 00')]);
}

/** Framed transport: a 4-byte frame length before the message. */
function framed(message: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeInt32BE(message.length);
  return Buffer.concat([h, message]);
}

// Compact protocol: 0x82, type CALL (1) << 5 | version 1, seqid varint 1, name length varint, name, stop.
const compactCall = Buffer.concat([hex('82 21 01 07'), ascii('getUser'), hex('00')]);

test('Thrift matches a strict binary CALL', () => {
  assert.equal(thrift.probe(binary(1, 'getUser'), 'c2s', ctx()), 'match');
});

test('Thrift matches a framed binary CALL', () => {
  assert.equal(thrift.probe(framed(binary(1, 'getUser')), 'c2s', ctx()), 'match');
});

test('Thrift matches a compact protocol CALL', () => {
  assert.equal(thrift.probe(compactCall, 'c2s', ctx()), 'match');
});

test('Thrift matches a REPLY from the server', () => {
  assert.equal(thrift.probe(binary(2, 'getUser'), 's2c', ctx()), 'match');
});

test('Thrift rejects a REPLY sent by the client', () => {
  assert.equal(thrift.probe(binary(2, 'getUser'), 'c2s', ctx()), 'no');
});

test('Thrift rejects an HTTP request', () => {
  assert.equal(thrift.probe(ascii('GET / HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('Thrift needs more while the method name is cut', () => {
  assert.equal(thrift.probe(binary(1, 'getUser').subarray(0, 10), 'c2s', ctx()), 'need-more');
});

test('Thrift extracts the method and the encoding', () => {
  assert.deepEqual(extracted(thrift, framed(binary(1, 'getUser')), 'c2s'), { thriftMethod: 'getUser', thriftProtocol: 'binary-framed' });
});
