import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wireguard } from '../../../src/dpi/protocols/wireguard.js';
import { ctx, extracted, hex } from '../helpers.js';

// WireGuard paper 5.4.2: handshake initiation = type 1, 3 reserved zero bytes, sender index,
// ephemeral (32), encrypted static (48), encrypted timestamp (28), mac1 (16), mac2 (16): 148 bytes.
const initiation = Buffer.concat([hex('01000000 11223344'), Buffer.alloc(140, 0xab)]);
// 5.4.6 transport data: type 4, reserved, receiver index, counter (8), then at least a 16-byte tag.
const keepalive = Buffer.concat([hex('04000000 11223344 0000000000000001'), Buffer.alloc(16, 0xcd)]);

test('WireGuard matches a 148-byte handshake initiation', () => {
  assert.equal(wireguard.probe(initiation, 'c2s', ctx('udp')), 'match');
});

test('WireGuard matches a keepalive transport message', () => {
  assert.equal(wireguard.probe(keepalive, 'c2s', ctx('udp')), 'match');
});

test('WireGuard rejects an initiation of the wrong size', () => {
  assert.equal(wireguard.probe(initiation.subarray(0, 147), 'c2s', ctx('udp')), 'no');
});

test('WireGuard rejects non-zero reserved bytes', () => {
  const bad = Buffer.from(initiation);
  bad[2] = 1;
  assert.equal(wireguard.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('WireGuard never needs more: each datagram is a whole message', () => {
  assert.equal(wireguard.probe(hex('01'), 'c2s', ctx('udp')), 'no');
});

test('WireGuard extracts the message type', () => {
  assert.deepEqual(extracted(wireguard, initiation, 'c2s', ctx('udp')), { wireguardMessage: 'handshake-initiation' });
});
