import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echo } from '../../../src/dpi/protocols/echo.js';
import { ascii, ctx } from '../helpers.js';

// RFC 862: whatever the client sends, the server sends back.
const sent = ascii('hello, echo');

test('Echo matches a server that returned exactly the client datagram', () => {
  assert.equal(echo.probe(sent, 's2c', ctx('udp', sent)), 'match');
});

test('Echo matches a TCP server returning a prefix of the client stream', () => {
  assert.equal(echo.probe(sent.subarray(0, 6), 's2c', ctx('tcp', sent)), 'match');
});

test('Echo rejects a server reply that differs', () => {
  assert.equal(echo.probe(ascii('HTTP/1.1 200 OK'), 's2c', ctx('tcp', ascii('GET / HTTP/1.1'))), 'no');
});

test('Echo rejects a server that speaks first', () => {
  assert.equal(echo.probe(sent, 's2c', ctx('tcp')), 'no');
});

test('Echo needs the server before it can tell', () => {
  assert.equal(echo.probe(sent, 'c2s', ctx('tcp')), 'need-more');
  assert.equal(echo.probe(ascii('hel'), 's2c', ctx('tcp', sent)), 'need-more');
});
