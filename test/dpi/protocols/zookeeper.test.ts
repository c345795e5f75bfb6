import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zookeeper } from '../../../src/dpi/protocols/zookeeper.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// ConnectRequest: length 45, protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0,
// passwd (length 16 + 16 zero bytes), readOnly false.
const connectRequest = Buffer.concat([hex('0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010'), Buffer.alloc(16), hex('00')]);
// ConnectResponse: length 37, protocolVersion 0, timeOut 30000, sessionId, passwd (16), readOnly false.
const connectResponse = Buffer.concat([hex('00000025 00000000 00007530 0100000abc000001 00000010'), Buffer.alloc(16, 9), hex('00')]);

test('ZooKeeper matches a ConnectRequest', () => {
  assert.equal(zookeeper.probe(connectRequest, 'c2s', ctx()), 'match');
});

test('ZooKeeper matches a ConnectResponse', () => {
  assert.equal(zookeeper.probe(connectResponse, 's2c', ctx('tcp', connectRequest)), 'match');
});

test('ZooKeeper matches a four-letter admin word', () => {
  assert.equal(zookeeper.probe(ascii('ruok'), 'c2s', ctx()), 'match');
});

test('ZooKeeper rejects a ConnectRequest whose password is not 16 bytes', () => {
  const bad = Buffer.from(connectRequest);
  bad.writeInt32BE(8, 28);
  assert.equal(zookeeper.probe(bad, 'c2s', ctx()), 'no');
});

test('ZooKeeper rejects an HTTP request', () => {
  assert.equal(zookeeper.probe(ascii('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('ZooKeeper needs more while the ConnectRequest is cut', () => {
  assert.equal(zookeeper.probe(connectRequest.subarray(0, 20), 'c2s', ctx()), 'need-more');
});

test('ZooKeeper extracts the negotiated timeout and session id', () => {
  assert.deepEqual(extracted(zookeeper, connectResponse, 's2c'), { zookeeperSessionTimeout: 30000, zookeeperSessionId: '100000abc000001' });
});

test('ZooKeeper extracts the four-letter word', () => {
  assert.deepEqual(extracted(zookeeper, ascii('mntr'), 'c2s'), { zookeeperCommand: 'mntr' });
});
