import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stomp } from '../../../src/dpi/protocols/stomp.js';
import { ascii, ctx, extracted } from '../helpers.js';

// STOMP 1.2 frames: command line, header lines, blank line, body, NUL.
const connect = ascii('CONNECT\naccept-version:1.1,1.2\nhost:/vhost\nlogin:guest\npasscode:guest\n\n\0');
const connected = ascii('CONNECTED\r\nversion:1.2\r\nserver:ActiveMQ/5.18.3\r\nheart-beat:0,0\r\n\r\n\0');

test('STOMP matches a CONNECT frame with accept-version', () => {
  assert.equal(stomp.probe(connect, 'c2s', ctx()), 'match');
});

test('STOMP matches a CONNECTED frame with CRLF line ends', () => {
  assert.equal(stomp.probe(connected, 's2c', ctx()), 'match');
});

test('STOMP rejects an accept-version that names no STOMP version', () => {
  assert.equal(stomp.probe(ascii('CONNECT\naccept-version:9.9\n\n\0'), 'c2s', ctx()), 'no');
});

test('STOMP rejects an HTTP CONNECT request', () => {
  assert.equal(stomp.probe(ascii('CONNECT example.com:443 HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('STOMP needs more until the header block ends', () => {
  assert.equal(stomp.probe(ascii('CONNECT\naccept-version:1.2\n'), 'c2s', ctx()), 'need-more');
});

test('STOMP extracts accepted versions and the virtual host', () => {
  assert.deepEqual(extracted(stomp, connect, 'c2s'), { stompAcceptVersion: '1.1,1.2', stompHost: '/vhost' });
});

test('STOMP extracts the negotiated version and server', () => {
  assert.deepEqual(extracted(stomp, connected, 's2c'), { stompVersion: '1.2', stompServer: 'ActiveMQ/5.18.3' });
});
