import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spark } from '../../../src/dpi/protocols/spark.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** TransportFrame of an RpcRequest (3) or RpcResponse (4): frame length i64 (counts itself), type, requestId i64, body size i32, body. */
function rpc(type: number, requestId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(21);
  h.writeBigUInt64BE(BigInt(21 + body.length), 0);
  h[8] = type;
  h.writeBigInt64BE(BigInt(requestId), 9);
  h.writeInt32BE(body.length, 17);
  return Buffer.concat([h, body]);
}

// An RpcRequest body as NettyRpcEnv writes it: sender address present, host (u16 length + bytes), port.
const request = rpc(3, 6_000_000_001, Buffer.concat([hex('01 0009'), ascii('10.0.0.12'), hex('0000b6e9')]));

test('Spark matches an RpcRequest frame', () => {
  assert.equal(spark.probe(request, 'c2s', ctx()), 'match');
});

test('Spark matches the RpcResponse for the same request id', () => {
  assert.equal(spark.probe(rpc(4, 6_000_000_001, hex('aced0005')), 's2c', ctx('tcp', request)), 'match');
});

test('Spark rejects an RpcResponse for another request id', () => {
  assert.equal(spark.probe(rpc(4, 7, hex('aced0005')), 's2c', ctx('tcp', request)), 'no');
});

test('Spark rejects a frame whose length disagrees with its body size', () => {
  const bad = Buffer.from(request);
  bad.writeInt32BE(3, 17);
  assert.equal(spark.probe(bad, 'c2s', ctx()), 'no');
});

test('Spark rejects an HTTP request', () => {
  assert.equal(spark.probe(ascii('GET / HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('Spark needs more while the frame header is cut', () => {
  assert.equal(spark.probe(request.subarray(0, 12), 'c2s', ctx()), 'need-more');
});

test('Spark extracts the message type', () => {
  assert.deepEqual(extracted(spark, request, 'c2s'), { sparkMessage: 'RpcRequest' });
});
