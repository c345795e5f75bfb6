import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http2, PREFACE } from '../../../src/dpi/protocols/http2.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// RFC 9113 section 3.4 preface, an empty SETTINGS frame (section 6.5), then a HEADERS frame
// (section 6.2, END_STREAM|END_HEADERS on stream 1) holding the RFC 7541 C.4.1 block:
// :method GET, :scheme http, :path /, :authority www.example.com (Huffman-coded).
const block = hex('82 86 84 41 8c f1e3 c2e5 f23a 6ba0 ab90 f4ff');
const request = Buffer.concat([
  ascii(PREFACE),
  hex('000000 04 00 00000000'),
  hex(`${block.length.toString(16).padStart(6, '0')} 01 05 00000001`),
  block,
]);

test('HTTP2 matches the client connection preface', () => {
  assert.equal(http2.probe(request, 'c2s', ctx()), 'match');
});

test('HTTP2 rejects an HTTP/1.1 request', () => {
  assert.equal(http2.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('HTTP2 needs more for a cut preface', () => {
  assert.equal(http2.probe(ascii('PRI * HTTP/2'), 'c2s', ctx()), 'need-more');
});

test('HTTP2 waits on a server SETTINGS frame alone and rejects other server bytes', () => {
  assert.equal(http2.probe(hex('000006 04 00 00000000 0003 00000064'), 's2c', ctx()), 'need-more');
  assert.equal(http2.probe(ascii('HTTP/1.1 200 OK\r\n'), 's2c', ctx()), 'no');
});

test('HTTP2 extracts the first request pseudo-headers through HPACK', () => {
  assert.deepEqual(extracted(http2, request, 'c2s'), { httpMethod: 'GET', httpPath: '/', httpHost: 'www.example.com' });
});

test('HTTP2 extracts the response status', () => {
  // SETTINGS, then HEADERS with indexed :status 200 (static index 8 = 0x88).
  const response = hex('000000 04 00 00000000  000001 01 04 00000001 88');
  assert.equal(extracted(http2, response, 's2c').httpStatus, 200);
});
