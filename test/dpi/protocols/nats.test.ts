import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nats } from '../../../src/dpi/protocols/nats.js';
import { ascii, ctx, extracted } from '../helpers.js';

// The server's INFO line and the client's CONNECT line carry JSON objects (NATS client protocol).
const info = ascii('INFO {"server_id":"NABC","version":"2.10.7","go":"go1.21","host":"0.0.0.0","port":4222,"max_payload":1048576}\r\n');
const connect = ascii('CONNECT {"verbose":false,"pedantic":false,"name":"orders","lang":"go","version":"1.31.0","protocol":1}\r\nPING\r\n');

test('NATS matches the server INFO line', () => {
  assert.equal(nats.probe(info, 's2c', ctx()), 'match');
});

test('NATS matches the client CONNECT line', () => {
  assert.equal(nats.probe(connect, 'c2s', ctx()), 'match');
});

test('NATS rejects an INFO line whose JSON is malformed', () => {
  assert.equal(nats.probe(ascii('INFO {"server_id":\r\n'), 's2c', ctx()), 'no');
});

test('NATS rejects an HTTP CONNECT request', () => {
  assert.equal(nats.probe(ascii('CONNECT example.com:443 HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('NATS needs more while the INFO line is open', () => {
  assert.equal(nats.probe(info.subarray(0, 30), 's2c', ctx()), 'need-more');
});

test('NATS extracts the server version', () => {
  assert.deepEqual(extracted(nats, info, 's2c'), { natsServerVersion: '2.10.7' });
});

test('NATS extracts client name, language and version', () => {
  assert.deepEqual(extracted(nats, connect, 'c2s'), { natsClientName: 'orders', natsClientLang: 'go', natsClientVersion: '1.31.0' });
});
