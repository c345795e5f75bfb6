import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cassandra } from '../../../src/dpi/protocols/cassandra.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Frame header: version (0x80 bit on responses), flags, stream i16, opcode, body length i32. */
function frame(version: number, opcode: number, body: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h[0] = version;
  h.writeInt16BE(1, 2);
  h[4] = opcode;
  h.writeUInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

/** [string map]: u16 count, then [string] key/value pairs with u16 lengths. */
function stringMap(pairs: [string, string][]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, pairs.length])];
  for (const [k, v] of pairs) for (const s of [k, v]) parts.push(Buffer.from([s.length >> 8, s.length & 0xff]), ascii(s));
  return Buffer.concat(parts);
}

const options = frame(0x04, 0x05, Buffer.alloc(0));
const startup = frame(0x04, 0x01, stringMap([['CQL_VERSION', '3.0.0'], ['DRIVER_NAME', 'DataStax Java Driver']]));

test('Cassandra matches an OPTIONS request (v4, empty body)', () => {
  assert.equal(cassandra.probe(options, 'c2s', ctx()), 'match');
});

test('Cassandra matches a STARTUP request carrying CQL_VERSION', () => {
  assert.equal(cassandra.probe(startup, 'c2s', ctx()), 'match');
});

test('Cassandra matches a READY response', () => {
  assert.equal(cassandra.probe(frame(0x84, 0x02, Buffer.alloc(0)), 's2c', ctx()), 'match');
});

test('Cassandra matches a QUERY whose [long string] holds CQL', () => {
  const cql = 'SELECT release_version FROM system.local';
  const body = Buffer.concat([Buffer.alloc(4), ascii(cql), Buffer.from([0, 1, 0])]);
  body.writeInt32BE(cql.length, 0);
  assert.equal(cassandra.probe(frame(0x04, 0x07, body), 'c2s', ctx()), 'match');
});

test('Cassandra rejects a request frame sent by the server', () => {
  assert.equal(cassandra.probe(options, 's2c', ctx()), 'no');
});

test('Cassandra rejects a TLS record', () => {
  assert.equal(cassandra.probe(hex('160301 00a5 01 0000a1 0303'), 'c2s', ctx()), 'no');
});

test('Cassandra needs more before the 9-byte header is complete', () => {
  assert.equal(cassandra.probe(startup.subarray(0, 5), 'c2s', ctx()), 'need-more');
});

test('Cassandra extracts CQL version, driver and protocol version after OPTIONS', () => {
  assert.deepEqual(extracted(cassandra, Buffer.concat([options, startup]), 'c2s'), {
    cqlProtocolVersion: 4,
    cqlVersion: '3.0.0',
    cqlDriver: 'DataStax Java Driver',
  });
});
