import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ntp } from '../../../src/dpi/protocols/ntp.js';
import { ctx, extracted, hex } from '../helpers.js';

// RFC 5905 7.3: LI 0, VN 4, mode 3 (client) = 0x23, stratum 0, poll 6, precision -20 (0xec), then
// root delay/dispersion, reference id and four timestamps: 48 bytes.
const client = Buffer.concat([hex('23 00 06 ec'), Buffer.alloc(36), hex('e9b3c1a2 00000000')]);
// Server reply: mode 4, stratum 2.
const server = Buffer.concat([hex('24 02 06 e9'), Buffer.alloc(44)]);
// RFC 1305 appendix B control message: VN 2, mode 6, READSTAT, sequence 1, no data.
const control = hex('16 01 0001 0000 0000 0000 0000');

test('NTP matches a v4 client request', () => {
  assert.equal(ntp.probe(client, 'c2s', ctx('udp')), 'match');
});

test('NTP matches a server reply', () => {
  assert.equal(ntp.probe(server, 's2c', ctx('udp')), 'match');
});

test('NTP matches a mode 6 control message', () => {
  assert.equal(ntp.probe(control, 'c2s', ctx('udp')), 'match');
});

test('NTP rejects a stratum above 16', () => {
  const bad = Buffer.from(server);
  bad[1] = 200;
  assert.equal(ntp.probe(bad, 's2c', ctx('udp')), 'no');
});

test('NTP rejects a DNS query', () => {
  assert.equal(ntp.probe(hex('abcd 0100 0001 0000 0000 0000 076578616d706c6500 0001 0001 00000000000000000000000000'), 'c2s', ctx('udp')), 'no');
});

test('NTP extracts version and mode', () => {
  assert.deepEqual(extracted(ntp, client, 'c2s', ctx('udp')), { ntpVersion: 4, ntpMode: 'client' });
});

test('NTP rejects a truncated header rather than waiting: a datagram is whole', () => {
  assert.equal(ntp.probe(client.subarray(0, 40), 'c2s', ctx('udp')), 'no');
});
