// Reading `conntrack -L` lines: what the agent prunes after a policy change. The pruning itself
// runs against the kernel in test/e2e/agent.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTracked } from '../../src/enforce/conntrack.js';

test('a TCP entry gives its original direction: client, server and ports', () => {
  assert.deepEqual(
    parseTracked('tcp      6 431999 ESTABLISHED src=10.200.7.10 dst=10.200.7.30 sport=40312 dport=5432 src=10.200.7.30 dst=10.200.7.10 sport=5432 dport=40312 [ASSURED] mark=0 use=1'),
    { proto: 'tcp', client: { ip: '10.200.7.10', port: 40312 }, server: { ip: '10.200.7.30', port: 5432 } },
  );
});

test('a UDP entry that was never answered still reads, and IPv6 addresses come out canonical', () => {
  assert.deepEqual(
    parseTracked('udp      17 29 src=10.200.7.20 dst=10.200.7.30 sport=33057 dport=53 [UNREPLIED] src=10.200.7.30 dst=10.200.7.20 sport=53 dport=33057 mark=0 use=1'),
    { proto: 'udp', client: { ip: '10.200.7.20', port: 33057 }, server: { ip: '10.200.7.30', port: 53 } },
  );
  assert.deepEqual(
    parseTracked('tcp      6 86399 ESTABLISHED src=fd00:0:0:0:0:0:0:a dst=fd00::1e sport=40000 dport=80 src=fd00::1e dst=fd00::a sport=80 dport=40000 [ASSURED] mark=0 use=1'),
    { proto: 'tcp', client: { ip: 'fd00::a', port: 40000 }, server: { ip: 'fd00::1e', port: 80 } },
  );
});

test('a translated entry (the L7 proxy\'s redirect) is left to the proxy', () => {
  assert.equal(
    parseTracked('tcp      6 431999 ESTABLISHED src=10.200.7.10 dst=10.200.7.30 sport=40312 dport=8080 src=10.200.7.254 dst=10.200.7.10 sport=15001 dport=40312 [ASSURED] mark=0 use=1'),
    undefined,
  );
});

test('other protocols and lines that are not entries give nothing', () => {
  for (const line of [
    'icmp     1 29 src=10.200.7.10 dst=10.200.7.30 type=8 code=0 id=7 src=10.200.7.30 dst=10.200.7.10 type=0 code=0 id=7 mark=0 use=1',
    'unknown  2 599 src=0.0.0.0 dst=224.0.0.22 [UNREPLIED] src=224.0.0.22 dst=0.0.0.0 mark=0 use=1',
    'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
    'tcp 6 10 CLOSE src=10.200.7.10 dst=10.200.7.30 sport=1',
    'tcp 6 10 CLOSE src=not-an-address dst=10.200.7.30 sport=1 dport=2 src=10.200.7.30 dst=not-an-address sport=2 dport=1',
    '',
  ]) assert.equal(parseTracked(line), undefined, line);
});
