import { test } from 'node:test';
import assert from 'node:assert/strict';
import { websocket } from '../../../src/dpi/protocols/websocket.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 6455 section 1.2: the opening handshake example.
const upgrade = ascii(
  'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n',
);
const switching = ascii(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n',
);

test('WebSocket refines HTTP', () => {
  assert.equal(websocket.refines, 'HTTP');
});

test('WebSocket matches an upgrade request answered by 101', () => {
  assert.equal(websocket.probe(switching, 's2c', ctx('tcp', upgrade)), 'match');
});

test('WebSocket rejects a plain HTTP request', () => {
  const plain = ascii('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(websocket.probe(plain, 'c2s', ctx()), 'no');
});

test('WebSocket rejects an upgrade the server refused', () => {
  assert.equal(websocket.probe(ascii('HTTP/1.1 400 Bad Request\r\n\r\n'), 's2c', ctx('tcp', upgrade)), 'no');
});

test('WebSocket needs the response after the upgrade request', () => {
  assert.equal(websocket.probe(upgrade, 'c2s', ctx()), 'need-more');
});

test('WebSocket extracts the subprotocol the server chose', () => {
  assert.equal(extracted(websocket, switching, 's2c').websocketProtocol, 'chat');
});
