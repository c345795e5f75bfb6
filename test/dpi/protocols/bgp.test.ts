import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bgp } from '../../../src/dpi/protocols/bgp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

const MARKER = 'ffffffffffffffffffffffffffffffff';
// OPEN: marker, length 37, type 1, version 4, my AS 23456 (AS_TRANS), hold time 90, identifier
// 10.0.0.1, optional parameters length 8: capabilities (2) of length 6: 4-octet AS (65) = 4200000001.
const open = hex(`${MARKER} 0025 01 04 5ba0 005a 0a000001 08 02 06 41 04 fa56ea01`);

test('BGP matches an OPEN message', () => {
  assert.equal(bgp.probe(open, 'c2s', ctx()), 'match');
});

test('BGP matches a KEEPALIVE (header only, length 19)', () => {
  assert.equal(bgp.probe(hex(`${MARKER} 0013 04`), 's2c', ctx()), 'match');
});

test('BGP rejects an OPEN whose parameter length disagrees with the message length', () => {
  const bad = Buffer.from(open);
  bad[28] = 9;
  assert.equal(bgp.probe(bad, 'c2s', ctx()), 'no');
});

test('BGP rejects text', () => {
  assert.equal(bgp.probe(ascii('GET / HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('BGP needs more while the marker is cut', () => {
  assert.equal(bgp.probe(open.subarray(0, 10), 'c2s', ctx()), 'need-more');
});

test('BGP extracts the 4-octet AS, router id and hold time', () => {
  assert.deepEqual(extracted(bgp, open, 'c2s'), { bgpClientAs: 4200000001, bgpClientRouterId: '10.0.0.1', bgpClientHoldTime: 90 });
});
