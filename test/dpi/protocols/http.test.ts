import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../../../src/dpi/protocols/http.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 9112 section 3: request-line = method SP request-target SP HTTP-version CRLF.
const request = ascii('GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
// RFC 9110 section 9.3.6: CONNECT's target is the authority (host:port) of the tunnel.
const connect = ascii('CONNECT api.example.net:443 HTTP/1.1\r\nProxy-Connection: keep-alive\r\n\r\n');
// RFC 9112 section 4: status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF.
const response = ascii('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');

test('HTTP matches a GET request line', () => {
  assert.equal(http.probe(request, 'c2s', ctx()), 'match');
});

test('HTTP matches a proxy CONNECT request', () => {
  assert.equal(http.probe(connect, 'c2s', ctx()), 'match');
});

test('HTTP matches a status line from the server', () => {
  assert.equal(http.probe(response, 's2c', ctx()), 'match');
});

test('HTTP matches a status line in the client direction, where a mid-connection capture puts it', () => {
  assert.equal(http.probe(response, 'c2s', ctx()), 'match');
});

test('HTTP rejects an RTSP request, which names RTSP/1.0 as its version', () => {
  assert.equal(http.probe(ascii('OPTIONS rtsp://cam/stream RTSP/1.0\r\nCSeq: 1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('HTTP rejects a SIP request', () => {
  assert.equal(http.probe(ascii('INVITE sip:bob@example.com SIP/2.0\r\n'), 'c2s', ctx()), 'no');
});

test('HTTP rejects an SSH banner from the server', () => {
  assert.equal(http.probe(ascii('SSH-2.0-OpenSSH_9.6\r\n'), 's2c', ctx()), 'no');
});

test('HTTP needs more for a cut method or request line', () => {
  assert.equal(http.probe(ascii('GE'), 'c2s', ctx()), 'need-more');
  assert.equal(http.probe(ascii('GET /very/long/pa'), 'c2s', ctx()), 'need-more');
  assert.equal(http.probe(ascii('HTTP/1.'), 's2c', ctx()), 'need-more');
});

test('HTTP extracts method, path, host and user agent from the request', () => {
  assert.deepEqual(extracted(http, request, 'c2s'), {
    httpMethod: 'GET',
    httpPath: '/index.html?q=1',
    httpHost: 'www.example.com',
    httpUserAgent: 'curl/8.5.0',
  });
});

test('HTTP takes the CONNECT target as the host when no Host header came', () => {
  assert.equal(extracted(http, connect, 'c2s').httpHost, 'api.example.net:443');
});

test('HTTP extracts the status code from the response', () => {
  assert.equal(extracted(http, response, 's2c').httpStatus, 404);
});
