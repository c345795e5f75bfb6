import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stun } from '../../../src/dpi/protocols/stun.js';
import { ctx, extracted, hex } from '../helpers.js';

// RFC 5769 2.1 sample request: Binding request, length 0x58, magic cookie, transaction id, then
// SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY and FINGERPRINT attributes.
const request = hex(`
  0001 0058 2112a442 b7e7a701bc34d686fa87dfae
  8022 0010 5354554e207465737420636c69656e74
  0024 0004 6e0001ff
  8029 0008 932ff9b151263b36
  0006 0009 6576746a3a68367659202020
  0008 0014 9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2
  8028 0004 e57a3bcf
`);

test('STUN matches the RFC 5769 sample request', () => {
  assert.equal(stun.probe(request, 'c2s', ctx('udp')), 'match');
});

test('STUN rejects a datagram whose length field disagrees with its size', () => {
  assert.equal(stun.probe(request.subarray(0, request.length - 4), 'c2s', ctx('udp')), 'no');
});

test('STUN rejects a header without the magic cookie', () => {
  assert.equal(stun.probe(hex('0001 0000 12345678 000000000000000000000000'), 'c2s', ctx('udp')), 'no');
});

test('STUN needs more for a cut header over TCP', () => {
  assert.equal(stun.probe(hex('0001 0058 2112'), 'c2s', ctx('tcp')), 'need-more');
});

test('STUN extracts method and class', () => {
  assert.deepEqual(extracted(stun, request, 'c2s', ctx('udp')), { stunMethod: 'binding', stunClass: 'request' });
  assert.equal(extracted(stun, hex('0101 0000 2112a442 000000000000000000000000'), 's2c', ctx('udp')).stunClass, 'success');
});
