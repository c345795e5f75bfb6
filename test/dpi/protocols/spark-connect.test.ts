import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sparkConnect } from '../../../src/dpi/protocols/spark-connect.js';
import { PREFACE } from '../../../src/dpi/protocols/http2.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** A literal header without indexing and with a literal name (RFC 7541 section 6.2.2), raw strings. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([hex('00'), Buffer.from([name.length]), ascii(name), Buffer.from([value.length]), ascii(value)]);
}

/** Preface + HEADERS (END_HEADERS) on stream 1 holding the given header block. */
function request(block: Buffer): Buffer {
  const len = block.length.toString(16).padStart(6, '0');
  return Buffer.concat([ascii(PREFACE), hex(`${len} 01 04 00000001`), block]);
}

// :method POST (static index 3 = 0x83), :scheme http (0x86), :path, content-type application/grpc.
const executePlan = request(Buffer.concat([hex('83 86'), literal(':path', '/spark.connect.SparkConnectService/ExecutePlan'), literal('content-type', 'application/grpc')]));
const otherService = request(Buffer.concat([hex('83 86'), literal(':path', '/helloworld.Greeter/SayHello'), literal('content-type', 'application/grpc')]));

test('Spark Connect refines HTTP2', () => {
  assert.equal(sparkConnect.refines, 'HTTP2');
});

test('Spark Connect matches a call to SparkConnectService', () => {
  assert.equal(sparkConnect.probe(executePlan, 'c2s', ctx()), 'match');
});

test('Spark Connect judges a response by the request it answers', () => {
  assert.equal(sparkConnect.probe(hex('000000 04 00 00000000'), 's2c', ctx('tcp', executePlan)), 'match');
});

test('Spark Connect rejects a call to another gRPC service', () => {
  assert.equal(sparkConnect.probe(otherService, 'c2s', ctx()), 'no');
});

test('Spark Connect needs more before the first HEADERS frame', () => {
  assert.equal(sparkConnect.probe(Buffer.concat([ascii(PREFACE), hex('000000 04 00 00000000')]), 'c2s', ctx()), 'need-more');
});

test('Spark Connect extracts the called method', () => {
  assert.deepEqual(extracted(sparkConnect, executePlan, 'c2s'), { sparkConnectMethod: 'ExecutePlan' });
});
