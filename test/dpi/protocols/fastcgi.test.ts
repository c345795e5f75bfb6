import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastcgi } from '../../../src/dpi/protocols/fastcgi.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Record: version 1, type, request id 1, content length, padding 0, reserved 0, content. */
function record(type: number, content: Buffer): Buffer {
  const h = hex('01 00 0001 0000 00 00');
  h[1] = type;
  h.writeUInt16BE(content.length, 4);
  return Buffer.concat([h, content]);
}

/** Name-value pairs with 1-byte lengths (all shorter than 128). */
function params(pairs: [string, string][]): Buffer {
  return Buffer.concat(pairs.map(([n, v]) => Buffer.concat([Buffer.from([n.length, v.length]), ascii(n), ascii(v)])));
}

// FCGI_BEGIN_REQUEST (1): role RESPONDER (1), flags KEEP_CONN (1), 5 reserved bytes.
const begin = record(1, hex('0001 01 0000000000'));
const paramStream = Buffer.concat([
  record(4, params([['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/api/login'], ['SCRIPT_FILENAME', '/var/www/index.php']])),
  record(4, Buffer.alloc(0)),
]);

test('FastCGI matches FCGI_BEGIN_REQUEST with the Responder role', () => {
  assert.equal(fastcgi.probe(begin, 'c2s', ctx()), 'match');
});

test('FastCGI matches an FCGI_STDOUT record carrying CGI headers', () => {
  assert.equal(fastcgi.probe(record(6, ascii('Content-type: text/html\r\n\r\n<p>')), 's2c', ctx()), 'match');
});

test('FastCGI rejects a BEGIN_REQUEST with an undefined role', () => {
  assert.equal(fastcgi.probe(record(1, hex('0009 00 0000000000')), 'c2s', ctx()), 'no');
});

test('FastCGI rejects a TLS ClientHello', () => {
  assert.equal(fastcgi.probe(hex('16030100a5010000a10303'), 'c2s', ctx()), 'no');
});

test('FastCGI needs more before the role is visible', () => {
  assert.equal(fastcgi.probe(begin.subarray(0, 9), 'c2s', ctx()), 'need-more');
});

test('FastCGI extracts role, method, URI and script from the params stream', () => {
  assert.deepEqual(extracted(fastcgi, Buffer.concat([begin, paramStream]), 'c2s'), {
    fastcgiRole: 'Responder',
    httpMethod: 'POST',
    httpPath: '/api/login',
    fastcgiScript: '/var/www/index.php',
  });
});
