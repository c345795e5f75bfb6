import { test } from 'node:test';
import assert from 'node:assert/strict';
import { socks } from '../../../src/dpi/protocols/socks.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// RFC 1928 3: greeting VER 5, NMETHODS 1, NO AUTHENTICATION; 4: CONNECT to domain example.com:443.
const greeting = hex('05 01 00');
const connect = Buffer.concat([hex('05 01 00 03 0b'), ascii('example.com'), hex('01bb')]);
// SOCKS4: VN 4, CD 1 (CONNECT), port 80, 93.184.216.34, user "bob" NUL.
const v4 = Buffer.concat([hex('04 01 0050 5db8d822'), ascii('bob'), hex('00')]);

test('SOCKS matches a v5 greeting answered by a method the client offered', () => {
  assert.equal(socks.probe(hex('05 00'), 's2c', ctx('tcp', greeting)), 'match');
});

test('SOCKS matches a v5 greeting followed by a request', () => {
  assert.equal(socks.probe(Buffer.concat([greeting, connect]), 'c2s', ctx()), 'match');
});

test('SOCKS matches a v4 request answered by request granted (90)', () => {
  assert.equal(socks.probe(hex('00 5a 0000 00000000'), 's2c', ctx('tcp', v4)), 'match');
});

test('SOCKS rejects a server choosing a method the client did not offer', () => {
  assert.equal(socks.probe(hex('05 02'), 's2c', ctx('tcp', greeting)), 'no');
});

test('SOCKS rejects a TLS ClientHello', () => {
  assert.equal(socks.probe(hex('16 0301 0200 01'), 'c2s', ctx()), 'no');
});

test('SOCKS needs more for a greeting alone', () => {
  assert.equal(socks.probe(greeting, 'c2s', ctx()), 'need-more');
});

test('SOCKS extracts version and destination', () => {
  assert.deepEqual(extracted(socks, Buffer.concat([greeting, connect]), 'c2s'), { socksVersion: 5, socksTarget: 'example.com:443' });
  assert.deepEqual(extracted(socks, v4, 'c2s'), { socksVersion: 4, socksTarget: '93.184.216.34:80' });
});

test('SOCKS writes an IPv6 destination in RFC 5952 form', () => {
  const v6 = Buffer.concat([greeting, hex('05 01 00 04 20010db8000000000000000000000001 0050')]);
  assert.equal(extracted(socks, v6, 'c2s').socksTarget, '[2001:db8::1]:80');
});
