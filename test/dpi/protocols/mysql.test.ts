import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mysql } from '../../../src/dpi/protocols/mysql.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** A packet: 3-byte little-endian payload length, sequence id, payload. */
function packet(seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, payload]);
}

// HandshakeV10: protocol 10, server version NUL, thread id, scramble part 1 (8), filler 0,
// capability flags low (0xf7ff has CLIENT_PROTOCOL_41), charset, status, caps high, scramble length, 10 reserved.
const greeting = packet(0, Buffer.concat([
  hex('0a'), ascii('10.11.6-MariaDB\0'), hex('05000000'), ascii('abcdefgh'), hex('00'),
  hex('fff7 2d 0200 ff81 15'), Buffer.alloc(10), ascii('ijklmnopqrst\0mysql_native_password\0'),
]));

// HandshakeResponse41: capabilities (PROTOCOL_41 | SECURE_CONNECTION | CONNECT_WITH_DB | PLUGIN_AUTH),
// max packet size, charset 0x21, 23 zero bytes, user NUL, 1-byte auth length + data, database NUL, plugin NUL.
const response = packet(1, Buffer.concat([
  hex('0882 0800'), hex('00000001'), hex('21'), Buffer.alloc(23), ascii('app\0'),
  hex('14'), Buffer.alloc(20, 7), ascii('shop\0mysql_native_password\0'),
]));

test('MySQL matches a server HandshakeV10 greeting', () => {
  assert.equal(mysql.probe(greeting, 's2c', ctx()), 'match');
});

test('MySQL matches a client HandshakeResponse41', () => {
  assert.equal(mysql.probe(response, 'c2s', ctx('tcp', greeting)), 'match');
});

test('MySQL matches an SSLRequest (32-byte response with CLIENT_SSL)', () => {
  const sslRequest = packet(1, Buffer.concat([hex('08aa 0800'), hex('00000001'), hex('21'), Buffer.alloc(23)]));
  assert.equal(mysql.probe(sslRequest, 'c2s', ctx()), 'match');
});

test('MySQL matches the ERR packet a server sends to a refused host', () => {
  const refused = packet(0, Buffer.concat([hex('ff 6a04'), ascii("Host '10.0.0.1' is not allowed to connect")]));
  assert.equal(mysql.probe(refused, 's2c', ctx()), 'match');
});

test('MySQL matches a COM_QUERY on a session caught mid-way', () => {
  assert.equal(mysql.probe(packet(0, Buffer.concat([hex('03'), ascii('SELECT id, total FROM orders WHERE id = 7')])), 'c2s', ctx()), 'match');
});

test('MySQL rejects a COM_QUERY whose text is not SQL', () => {
  assert.equal(mysql.probe(packet(0, Buffer.concat([hex('03'), ascii('hello there, this is not a statement')])), 'c2s', ctx()), 'no');
});

test('MySQL rejects an SSH banner', () => {
  assert.equal(mysql.probe(ascii('SSH-2.0-OpenSSH_9.2\r\n'), 's2c', ctx()), 'no');
});

test('MySQL rejects an HTTP request from the client', () => {
  assert.equal(mysql.probe(ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('MySQL needs more while the greeting is cut inside the server version', () => {
  assert.equal(mysql.probe(greeting.subarray(0, 12), 's2c', ctx()), 'need-more');
});

test('MySQL extracts the server version from the greeting', () => {
  assert.deepEqual(extracted(mysql, greeting, 's2c'), { dbServerVersion: '10.11.6-MariaDB' });
});

test('MySQL extracts user and database from the handshake response', () => {
  assert.deepEqual(extracted(mysql, response, 'c2s'), { dbUser: 'app', dbName: 'shop' });
});
