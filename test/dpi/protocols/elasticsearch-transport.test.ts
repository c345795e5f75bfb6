import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elasticsearchTransport } from '../../../src/dpi/protocols/elasticsearch-transport.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// Header: "ES", message length i32, request id i64, status byte (0x08 handshake), version id i32
// (8.13.0 = 8130099), variable header size, ...
const handshake = Buffer.concat([ascii('ES'), hex('00000040 0000000000000001 08 007c0e33 0000001a'), Buffer.alloc(47)]);

test('Elasticsearch transport matches a handshake request header', () => {
  assert.equal(elasticsearchTransport.probe(handshake, 'c2s', ctx()), 'match');
});

test('Elasticsearch transport matches a ping (length -1)', () => {
  assert.equal(elasticsearchTransport.probe(Buffer.concat([ascii('ES'), hex('ffffffff')]), 'c2s', ctx()), 'match');
});

test('Elasticsearch transport rejects a version id outside 5.x-9.x', () => {
  const bad = Buffer.from(handshake);
  bad.writeInt32BE(42, 15);
  assert.equal(elasticsearchTransport.probe(bad, 'c2s', ctx()), 'no');
});

test('Elasticsearch transport rejects an SSH banner', () => {
  assert.equal(elasticsearchTransport.probe(ascii('SSH-2.0-x\r\n'), 'c2s', ctx()), 'no');
});

test('Elasticsearch transport needs more after the marker alone', () => {
  assert.equal(elasticsearchTransport.probe(ascii('ES'), 'c2s', ctx()), 'need-more');
});

test('Elasticsearch transport extracts the sender version id', () => {
  assert.deepEqual(extracted(elasticsearchTransport, handshake, 'c2s'), { elasticsearchClientVersionId: 8130099 });
});
