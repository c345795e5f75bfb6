import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafka } from '../../../src/dpi/protocols/kafka.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Request: size i32, api_key i16, api_version i16, correlation_id i32, client_id (i16 length + bytes), body. */
function request(apiKey: number, version: number, correlation: number, clientId: string, body: Buffer): Buffer {
  const h = Buffer.alloc(14);
  h.writeInt32BE(10 + clientId.length + body.length, 0);
  h.writeInt16BE(apiKey, 4);
  h.writeInt16BE(version, 6);
  h.writeInt32BE(correlation, 8);
  h.writeInt16BE(clientId.length, 12);
  return Buffer.concat([h, ascii(clientId), body]);
}

// ApiVersions (key 18) v3: header tagged fields (0), client_software_name "a" and
// client_software_version "1" as compact strings (length + 1), body tagged fields (0).
const apiVersions = request(18, 3, 1, 'producer-1', hex('00 02 61 02 31 00'));

test('Kafka matches an ApiVersions request header', () => {
  assert.equal(kafka.probe(apiVersions, 'c2s', ctx()), 'match');
});

test('Kafka matches a response carrying the request\'s correlation id', () => {
  assert.equal(kafka.probe(hex('0000000e 00000001 0000 00000000'), 's2c', ctx('tcp', apiVersions)), 'match');
});

test('Kafka rejects a response with another correlation id', () => {
  assert.equal(kafka.probe(hex('0000000e 00000009 0000 00000000'), 's2c', ctx('tcp', apiVersions)), 'no');
});

test('Kafka rejects an unknown api key', () => {
  assert.equal(kafka.probe(request(900, 0, 1, 'x', Buffer.alloc(0)), 'c2s', ctx()), 'no');
});

test('Kafka rejects a zero-filled header without a client id (a ZooKeeper ConnectRequest)', () => {
  const zookeeper = Buffer.concat([hex('0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010'), Buffer.alloc(17)]);
  assert.equal(kafka.probe(zookeeper, 'c2s', ctx()), 'no');
});

test('Kafka rejects an HTTP request', () => {
  assert.equal(kafka.probe(ascii('POST /topics HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('Kafka needs more while the client id is cut', () => {
  assert.equal(kafka.probe(apiVersions.subarray(0, 17), 'c2s', ctx()), 'need-more');
});

test('Kafka extracts the API name, its version and the client id', () => {
  assert.deepEqual(extracted(kafka, apiVersions, 'c2s'), { kafkaApi: 'ApiVersions', kafkaApiVersion: 3, kafkaClientId: 'producer-1' });
});
