import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identifier } from '../../src/dpi/engine.js';
import { applicationNames, findProtocol, protocols } from '../../src/dpi/registry.js';
import { ascii, hex } from './helpers.js';

// Whole sessions through the engine with the real registry.

test('an HTTP exchange is identified as HTTP with request and response metadata', () => {
  const id = new Identifier('tcp', 51000, 8080);
  id.feed('c2s', ascii('GET /api/v1/items HTTP/1.1\r\nHost: shop.internal\r\n'));
  id.feed('c2s', ascii('User-Agent: Go-http-client/1.1\r\n\r\n'));
  id.feed('s2c', ascii('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}'));
  const r = id.result();
  assert.deepEqual([r.app, r.confidence], ['HTTP', 'dpi']);
  assert.deepEqual(r.meta, { httpMethod: 'GET', httpPath: '/api/v1/items', httpHost: 'shop.internal', httpUserAgent: 'Go-http-client/1.1', httpStatus: 200 });
});

test('an HTTP upgrade answered by 101 becomes WebSocket and keeps the request metadata', () => {
  const id = new Identifier('tcp', 51000, 80);
  id.feed('c2s', ascii('GET /ws HTTP/1.1\r\nHost: chat.internal\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  id.feed('s2c', ascii('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  const r = id.result();
  assert.equal(r.app, 'WebSocket');
  assert.equal(r.meta.httpHost, 'chat.internal');
  assert.equal(r.meta.httpPath, '/ws');
});

test('a cleartext HTTP/2 call with application/grpc becomes gRPC', () => {
  const block = Buffer.concat([hex('83 86 04 14'), ascii('/inventory.Stock/Get'), hex('00 0c'), ascii('content-type'), hex('10'), ascii('application/grpc')]);
  const id = new Identifier('tcp', 51000, 50051);
  id.feed('c2s', ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  assert.equal(id.result().app, 'HTTP2');
  id.feed('c2s', Buffer.concat([hex('000000 04 00 00000000'), hex(`0000${block.length.toString(16)} 01 04 00000001`), block]));
  const r = id.result();
  assert.equal(r.app, 'gRPC');
  assert.deepEqual([r.meta.grpcService, r.meta.grpcMethod, r.meta.httpPath], ['inventory.Stock', 'Get', '/inventory.Stock/Get']);
});

test('a DNS query and its answer are identified and extracted over UDP', () => {
  const id = new Identifier('udp', 53000, 53);
  id.feed('c2s', hex('0001 0100 0001 0000 0000 0000 02646200 0001 0001'));
  id.feed('s2c', hex('0001 8180 0001 0001 0000 0000 02646200 0001 0001 c00c 0001 0001 0000001e 0004 0ac80005'));
  const r = id.result();
  assert.equal(r.app, 'DNS');
  assert.deepEqual(r.meta.dnsAnswers, [{ name: 'db', type: 'A', value: '10.200.0.5', ttl: 30 }]);
});

test('a 220 greeting answered by EHLO is SMTP, answered by USER is FTP', () => {
  const mail = new Identifier('tcp', 51000, 2121);
  mail.feed('s2c', ascii('220 host ready\r\n'));
  mail.feed('c2s', ascii('EHLO me\r\n'));
  assert.equal(mail.result().app, 'SMTP');
  const files = new Identifier('tcp', 51000, 2525);
  files.feed('s2c', ascii('220 host ready\r\n'));
  files.feed('c2s', ascii('USER anonymous\r\n'));
  assert.equal(files.result().app, 'FTP');
});

test('a session without payload on port 80 claims nothing', () => {
  const r = new Identifier('tcp', 51000, 80).result();
  assert.deepEqual([r.app, r.confidence], ['unknown', 'none']);
});

test('an undecided session on port 443 is a port guess for TLS, not a DPI identification', () => {
  const id = new Identifier('tcp', 51000, 443);
  id.feed('c2s', hex('16 03'));
  const r = id.result();
  assert.deepEqual([r.app, r.confidence], ['TLS', 'port']);
});

test('random bytes on port 53 over UDP are not claimed as DNS by port once DNS said no', () => {
  const id = new Identifier('udp', 53000, 53);
  id.feed('c2s', hex('ffffffffffffffffffffffffffffffff'));
  assert.notEqual(id.result().app, 'DNS');
});

test('the registry holds unique names, and lookups ignore case and accept aliases', () => {
  const names = applicationNames().map((n) => n.toLowerCase());
  assert.equal(new Set(names).size, names.length);
  assert.equal(findProtocol('tls')?.name, 'TLS');
  assert.equal(findProtocol('mdns')?.name, 'DNS');
  assert.equal(findProtocol('nope'), undefined);
});

test('every refining protocol comes after its parent in the registry', () => {
  protocols.forEach((p, i) => {
    if (p.refines === undefined) return;
    const parent = protocols.findIndex((q) => q.name === p.refines);
    assert.ok(parent >= 0 && parent < i, `${p.name} refines ${p.refines}`);
  });
});
