import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openvpn } from '../../../src/dpi/protocols/openvpn.js';
import { ctx, hex } from '../helpers.js';

// P_CONTROL_HARD_RESET_CLIENT_V2 (7 << 3 | key 0 = 0x38), session id, ack array length 0,
// message packet-id 0: the 14-byte plain client reset.
const plain = hex('38 0123456789abcdef 00 00000000');
// With tls-auth (SHA1 HMAC, 20 bytes): session id, HMAC, replay packet-id 1, net time, then the plain fields.
const tlsAuth = Buffer.concat([hex('38 0123456789abcdef'), Buffer.alloc(20, 0x5a), hex('00000001 6553f100 00 00000000')]);
// Server reset with tls-crypt: opcode 8 (0x40), session id, replay packet-id 1, time, 32-byte tag, ciphertext.
const serverCrypt = Buffer.concat([hex('40 fedcba9876543210 00000001 6553f100'), Buffer.alloc(32 + 24, 0x77)]);

test('OpenVPN matches a plain client hard reset over UDP', () => {
  assert.equal(openvpn.probe(plain, 'c2s', ctx('udp')), 'match');
});

test('OpenVPN matches a client hard reset with tls-auth', () => {
  assert.equal(openvpn.probe(tlsAuth, 'c2s', ctx('udp')), 'match');
});

test('OpenVPN matches a tls-crypt server reset', () => {
  assert.equal(openvpn.probe(serverCrypt, 's2c', ctx('udp')), 'match');
});

test('OpenVPN matches a client reset over TCP with its 2-byte length', () => {
  assert.equal(openvpn.probe(Buffer.concat([hex('000e'), plain]), 'c2s', ctx('tcp')), 'match');
});

test('OpenVPN waits for the server when the client reset has an unknown wrapping', () => {
  assert.equal(openvpn.probe(Buffer.concat([hex('50 0123456789abcdef 0a010001'), Buffer.alloc(300, 1)]), 'c2s', ctx('udp')), 'need-more');
});

test('OpenVPN rejects a data packet opcode as the first client packet', () => {
  assert.equal(openvpn.probe(hex('30 0123456789abcdef 00 00000000'), 'c2s', ctx('udp')), 'no');
});

test('OpenVPN needs more for a cut TCP packet', () => {
  assert.equal(openvpn.probe(hex('000e 38 01'), 'c2s', ctx('tcp')), 'need-more');
});
