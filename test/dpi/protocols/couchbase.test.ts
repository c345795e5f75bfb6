import { test } from 'node:test';
import assert from 'node:assert/strict';
import { couchbase } from '../../../src/dpi/protocols/couchbase.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** Memcached binary request header (24 bytes) with opcode, key and value; no extras. */
function request(opcode: number, key: string, value: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = opcode;
  h.writeUInt16BE(key.length, 2);
  h.writeUInt32BE(key.length + value.length, 8);
  return Buffer.concat([h, ascii(key), value]);
}

// HELLO (0x1f): key = agent name, value = requested features (u16 each: TCPNODELAY 0x03, XERROR 0x07).
const hello = request(0x1f, 'couchbase-go/2.6', hex('0003 0007'));
// SELECT_BUCKET (0x89): key = bucket name.
const select = request(0x89, 'travel-sample');

test('Couchbase matches a HELLO request', () => {
  assert.equal(couchbase.probe(hello, 'c2s', ctx()), 'match');
});

test('Couchbase matches a HELLO response', () => {
  const h = Buffer.alloc(24);
  h[0] = 0x81;
  h[1] = 0x1f;
  h.writeUInt32BE(4, 8);
  assert.equal(couchbase.probe(Buffer.concat([h, hex('0003 0007')]), 's2c', ctx()), 'match');
});

test('Couchbase leaves a plain memcached GET to Memcached', () => {
  assert.equal(couchbase.probe(request(0x00, 'foo'), 'c2s', ctx()), 'no');
});

test('Couchbase rejects a header whose key is longer than its body', () => {
  const bad = Buffer.from(select);
  bad.writeUInt32BE(2, 8);
  assert.equal(couchbase.probe(bad, 'c2s', ctx()), 'no');
});

test('Couchbase needs more before the 24-byte header is complete', () => {
  assert.equal(couchbase.probe(hello.subarray(0, 12), 'c2s', ctx()), 'need-more');
});

test('Couchbase extracts the agent and the selected bucket', () => {
  assert.deepEqual(extracted(couchbase, Buffer.concat([hello, select]), 'c2s'), {
    couchbaseAgent: 'couchbase-go/2.6',
    couchbaseBucket: 'travel-sample',
  });
});
