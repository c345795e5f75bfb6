import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tds } from '../../../src/dpi/protocols/tds.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Packet header: type, status (0x01 end of message), length (BE, header included), SPID, packet id, window 0. */
function packet(type: number, payload: Buffer): Buffer {
  const h = hex('00 01 0000 0000 01 00');
  h[0] = type;
  h.writeUInt16BE(8 + payload.length, 2);
  return Buffer.concat([h, payload]);
}

// PRELOGIN option table: VERSION (0) at offset 11 length 6, ENCRYPTION (1) at 17 length 1,
// terminator 0xFF, then the data: version 16.0.4095, subbuild 0, encryption ENCRYPT_NOT_SUP (2).
const preloginPayload = hex('00 000b 0006 01 0011 0001 ff 10 00 0fff 0000 02');
const prelogin = packet(0x12, preloginPayload);

/** LOGIN7: 94-byte fixed part (length, TDS 7.4, ... offsets/lengths of UTF-16 strings), then the strings. */
function login7(user: string, app: string, database: string): Buffer {
  const fixed = Buffer.alloc(94);
  const strings: Buffer[] = [];
  let offset = 94;
  const put = (at: number, s: string): void => {
    fixed.writeUInt16LE(offset, at);
    fixed.writeUInt16LE(s.length, at + 2);
    const b = Buffer.from(s, 'utf16le');
    strings.push(b);
    offset += b.length;
  };
  fixed.writeUInt32LE(0x74000004, 4);
  fixed.writeUInt32LE(4096, 8);
  put(40, user);
  put(48, app);
  put(68, database);
  fixed.writeUInt32LE(offset, 0);
  return packet(0x10, Buffer.concat([fixed, ...strings]));
}

test('TDS matches a client PRELOGIN', () => {
  assert.equal(tds.probe(prelogin, 'c2s', ctx()), 'match');
});

test('TDS matches the server PRELOGIN answer (tabular result)', () => {
  assert.equal(tds.probe(packet(0x04, preloginPayload), 's2c', ctx('tcp', prelogin)), 'match');
});

test('TDS matches a LOGIN7 for TDS 7.4', () => {
  assert.equal(tds.probe(login7('sa', 'sqlcmd', 'master'), 'c2s', ctx()), 'match');
});

test('TDS matches an SQL batch on a session caught mid-way', () => {
  // ALL_HEADERS: total length 22, one transaction descriptor header (length 18, type 2, descriptor 0, 1 request).
  const allHeaders = hex('16000000 12000000 0200 0000000000000000 01000000');
  assert.equal(tds.probe(packet(0x01, Buffer.concat([allHeaders, Buffer.from('SELECT name FROM sys.databases', 'utf16le')])), 'c2s', ctx()), 'match');
});

test('TDS rejects a PRELOGIN option that points past the payload', () => {
  const bad = Buffer.from(prelogin);
  bad.writeUInt16BE(0x0100, 9);
  assert.equal(tds.probe(bad, 'c2s', ctx()), 'no');
});

test('TDS rejects a TLS record', () => {
  assert.equal(tds.probe(hex('1603010200010001fc0303'), 'c2s', ctx()), 'no');
});

test('TDS needs more while the header is cut', () => {
  assert.equal(tds.probe(prelogin.subarray(0, 6), 'c2s', ctx()), 'need-more');
});

test('TDS extracts the server version from its PRELOGIN answer', () => {
  assert.deepEqual(extracted(tds, packet(0x04, preloginPayload), 's2c'), { dbServerVersion: '16.0.4095' });
});

test('TDS extracts user, application and database from a clear LOGIN7 after PRELOGIN', () => {
  assert.deepEqual(extracted(tds, Buffer.concat([prelogin, login7('sa', 'sqlcmd', 'master')]), 'c2s'), {
    dbUser: 'sa',
    dbApplication: 'sqlcmd',
    dbName: 'master',
  });
});

test('TDS ignores ASCII bytes', () => {
  assert.equal(tds.probe(ascii('hello world\r\n'), 'c2s', ctx()), 'no');
});
