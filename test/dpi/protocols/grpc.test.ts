import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpc } from '../../../src/dpi/protocols/grpc.js';
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

// PROTOCOL-HTTP2.md: :method POST (static 3 = 0x83), :scheme http (0x86), :path /Service/Method,
// content-type application/grpc, te trailers.
const call = request(
  Buffer.concat([hex('83 86'), literal(':path', '/helloworld.Greeter/SayHello'), literal('content-type', 'application/grpc'), literal('te', 'trailers')]),
);

test('gRPC refines HTTP2', () => {
  assert.equal(grpc.refines, 'HTTP2');
});

test('gRPC matches a request whose content-type is application/grpc', () => {
  assert.equal(grpc.probe(call, 'c2s', ctx()), 'match');
});

test('gRPC matches the application/grpc+proto variant', () => {
  const proto = request(Buffer.concat([hex('83 86'), literal(':path', '/a.B/C'), literal('content-type', 'application/grpc+proto')]));
  assert.equal(grpc.probe(proto, 'c2s', ctx()), 'match');
});

test('gRPC rejects an HTTP/2 request for a web page', () => {
  const page = request(Buffer.concat([hex('82 86 84'), literal('content-type', 'text/html')]));
  assert.equal(grpc.probe(page, 'c2s', ctx()), 'no');
});

test('gRPC needs more before the first HEADERS frame', () => {
  assert.equal(grpc.probe(Buffer.concat([ascii(PREFACE), hex('000000 04 00 00000000')]), 'c2s', ctx()), 'need-more');
});

test('gRPC extracts service and method from :path', () => {
  assert.deepEqual(extracted(grpc, call, 'c2s'), { grpcService: 'helloworld.Greeter', grpcMethod: 'SayHello' });
});
