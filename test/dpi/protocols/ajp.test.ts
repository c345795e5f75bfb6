import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ajp } from '../../../src/dpi/protocols/ajp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** An AJP string: u16 length, bytes, NUL. */
function str(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), ascii(s), hex('00')]);
}

/** Web server to container: 0x12 0x34, u16 length, payload. */
function toContainer(payload: Buffer): Buffer {
  return Buffer.concat([hex('1234'), Buffer.from([payload.length >> 8, payload.length & 0xff]), payload]);
}

// Forward Request (2): method GET (2), protocol, req_uri, remote_addr, remote_host, server_name,
// server_port, is_ssl, num_headers 0, request terminator 0xFF.
const forward = toContainer(Buffer.concat([
  hex('02 02'), str('HTTP/1.1'), str('/shop/cart'), str('10.0.0.5'), str('client'), str('shop.local'), hex('0050 00 0000 ff'),
]));

test('AJP matches a Forward Request from the web server', () => {
  assert.equal(ajp.probe(forward, 'c2s', ctx()), 'match');
});

test('AJP matches a CPing and its CPong', () => {
  assert.equal(ajp.probe(hex('1234 0001 0a'), 'c2s', ctx()), 'match');
  assert.equal(ajp.probe(hex('4142 0001 09'), 's2c', ctx()), 'match');
});

test('AJP matches Send Headers from the container', () => {
  assert.equal(ajp.probe(Buffer.concat([hex('4142 0010 04 00c8'), str('OK'), hex('0000')]), 's2c', ctx()), 'match');
});

test('AJP rejects a Forward Request with an unknown method code', () => {
  const bad = Buffer.from(forward);
  bad[5] = 0x70;
  assert.equal(ajp.probe(bad, 'c2s', ctx()), 'no');
});

test('AJP rejects an HTTP request', () => {
  assert.equal(ajp.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('AJP needs more while the request URI is cut', () => {
  assert.equal(ajp.probe(forward.subarray(0, 20), 'c2s', ctx()), 'need-more');
});

test('AJP extracts method and URI from a Forward Request', () => {
  assert.deepEqual(extracted(ajp, forward, 'c2s'), { httpMethod: 'GET', httpPath: '/shop/cart' });
});
