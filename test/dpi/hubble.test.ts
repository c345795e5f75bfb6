import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { flowFromHubble } from '../../src/dpi/hubble.js';
import type { Flow } from '../../src/model/flow.js';

const lines = readFileSync('test/fixtures/learn/hubble.jsonl', 'utf8').split('\n');
const flowAt = (i: number): Flow => {
  const f = flowFromHubble(JSON.parse(lines[i] as string), `hubble.jsonl:${i + 1}`);
  assert.ok(typeof f !== 'string', String(f));
  return f;
};

test('a wrapped Hubble flow maps addresses, TCP ports, time, verdict and endpoint identity', () => {
  const f = flowAt(0);
  assert.equal(f.id, 'h-1');
  assert.equal(f.ipProto, 'tcp');
  assert.deepEqual(f.client, { ip: '10.1.0.10', port: 41000, workload: 'shop/web-7d9c6b5f48-x2x7p' });
  assert.deepEqual(f.server, { ip: '10.1.0.20', port: 8080, workload: 'shop/api-5c4b9-abcde' });
  assert.equal(f.firstSeen, '2026-01-10T10:00:00.000Z');
  assert.equal(f.meta['hubbleVerdict'], 'FORWARDED');
  assert.deepEqual(f.meta['hubbleSource'], { namespace: 'shop', pod: 'web-7d9c6b5f48-x2x7p', labels: ['k8s:app=web'] });
  assert.equal(f.app, 'unknown');
  assert.equal(f.appConfidence, 'none');
});

test('a reply is turned round so the client is the side that opened the connection', () => {
  const f = flowAt(1);
  assert.equal(f.client.ip, '10.1.0.10');
  assert.equal(f.server.port, 8080);
  assert.equal(f.s2c.packets, 1);
});

test('an HTTP record from the L7 parser gives the application with confidence dpi and its method, URL and code', () => {
  const f = flowAt(1);
  assert.equal(f.app, 'http');
  assert.equal(f.appConfidence, 'dpi');
  assert.equal(f.meta.httpMethod, 'GET');
  assert.equal(f.meta.httpHost, 'api.shop:8080');
  assert.equal(f.meta.httpPath, '/cart?id=3');
  assert.equal(f.meta.httpStatus, 200);
});

test('a DNS record gives the query without its final dot and the answered addresses', () => {
  const f = flowAt(2);
  assert.equal(f.ipProto, 'udp');
  assert.equal(f.app, 'dns');
  assert.equal(f.meta.dnsQuery, 'pay.example.com');
  assert.deepEqual(f.meta.dnsAnswers, [{ name: 'pay.example.com', type: 'A', value: '198.51.100.7', ttl: 30 }]);
});

test('a Kafka record gives the API key and topic', () => {
  const f = flowAt(3);
  assert.equal(f.app, 'kafka');
  assert.equal(f.meta['kafkaApi'], 'produce');
  assert.equal(f.meta['kafkaTopic'], 'orders');
  assert.equal(f.meta['hubbleVerdict'], 'DROPPED');
});

test('a Hubble record without both addresses is refused with the reason', () => {
  assert.equal(flowFromHubble(JSON.parse(lines[5] as string), 'x'), 'IP.source and IP.destination must be IP addresses');
  assert.equal(flowFromHubble({ IP: { source: '10.0.0.1', destination: '10.0.0.2' } }, 'x'), 'no valid time');
});

test('an ICMP record carries the ICMP type as the server port', () => {
  const f = flowFromHubble({ time: '2026-01-10T10:00:00Z', IP: { source: '10.0.0.1', destination: '10.0.0.2' }, l4: { ICMPv4: { type: 8, code: 0 } } }, 'x');
  assert.ok(typeof f !== 'string');
  assert.equal(f.ipProto, 'icmp');
  assert.equal(f.server.port, 8);
});
