import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresql } from '../../../src/dpi/protocols/postgresql.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** StartupMessage: int32 length, int32 protocol 3.0 (196608), name/value C strings, final NUL. */
function startup(params: string): Buffer {
  const body = ascii(`${params}\0`);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length, 0);
  h.writeUInt32BE(0x00030000, 4);
  return Buffer.concat([h, body]);
}

/** A backend message: type byte, int32 length counting itself, body. */
function message(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(4 + body.length, 1);
  return Buffer.concat([h, body]);
}

const hello = startup('user\0alice\0database\0orders\0application_name\0billing\0');
const sslRequest = hex('00000008 04d2162f');

test('PostgreSQL matches a StartupMessage for protocol 3.0', () => {
  assert.equal(postgresql.probe(hello, 'c2s', ctx()), 'match');
});

test('PostgreSQL matches an SSLRequest and the server\'s one-byte answer to it', () => {
  assert.equal(postgresql.probe(sslRequest, 'c2s', ctx()), 'match');
  assert.equal(postgresql.probe(ascii('S'), 's2c', ctx('tcp', sslRequest)), 'match');
});

test('PostgreSQL matches a GSSENCRequest', () => {
  assert.equal(postgresql.probe(hex('00000008 04d21630'), 'c2s', ctx()), 'match');
});

test('PostgreSQL matches AuthenticationMD5Password from the server', () => {
  assert.equal(postgresql.probe(message('R', hex('00000005 01020304')), 's2c', ctx()), 'match');
});

test('PostgreSQL matches a simple Query message on a session caught mid-way', () => {
  assert.equal(postgresql.probe(message('Q', ascii('SELECT count(*) FROM accounts\0')), 'c2s', ctx()), 'match');
});

test('PostgreSQL matches an extended-protocol Parse message', () => {
  assert.equal(postgresql.probe(message('P', ascii('s1\0UPDATE accounts SET balance = $1 WHERE id = $2\0\0\0')), 'c2s', ctx()), 'match');
});

test('PostgreSQL rejects a startup message that speaks protocol 2.0', () => {
  const old = Buffer.from(hello);
  old.writeUInt32BE(0x00020000, 4);
  assert.equal(postgresql.probe(old, 'c2s', ctx()), 'no');
});

test('PostgreSQL rejects a TLS ClientHello', () => {
  assert.equal(postgresql.probe(hex('16030100a5010000a10303'), 'c2s', ctx()), 'no');
});

test('PostgreSQL needs more while the startup parameters are cut', () => {
  assert.equal(postgresql.probe(hello.subarray(0, 14), 'c2s', ctx()), 'need-more');
});

test('PostgreSQL extracts user, database and application name', () => {
  assert.deepEqual(extracted(postgresql, hello, 'c2s'), { dbUser: 'alice', dbName: 'orders', dbApplication: 'billing' });
});

test('PostgreSQL extracts server_version from the ParameterStatus messages', () => {
  const s2c = Buffer.concat([
    message('R', hex('00000000')),
    message('S', ascii('client_encoding\0UTF8\0')),
    message('S', ascii('server_version\x0016.2\0')),
  ]);
  assert.deepEqual(extracted(postgresql, s2c, 's2c', ctx('tcp', hello)), { dbServerVersion: '16.2' });
});
