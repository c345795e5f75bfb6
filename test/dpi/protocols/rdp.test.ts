import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rdp } from '../../../src/dpi/protocols/rdp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// MS-RDPBCGR 4.1.1 Client X.224 Connection Request PDU: TPKT (version 3, length 0x2c), X.224 CR
// (LI 0x27, code 0xe0, DST-REF 0, SRC-REF 0, class 0), "Cookie: mstshash=eltons\r\n", RDP_NEG_REQ
// (type 1, flags 0, length 8, requestedProtocols PROTOCOL_SSL).
const request = Buffer.concat([
  hex('0300 002c 27 e0 0000 0000 00'),
  ascii('Cookie: mstshash=eltons\r\n'),
  hex('01 00 0800 01000000'),
]);
// MS-RDPBCGR 4.1.2 Server X.224 Connection Confirm PDU with RDP_NEG_RSP (type 2, selected SSL).
const confirm = hex('0300 0013 0e d0 0000 1234 00 02 00 0800 01000000');
// MS-RDPEUDP 2.2.2.1/2.2.2.5: SYN datagram, snSourceAck -1, receive window 64, RDPUDP_FLAG_SYN,
// then snInitialSequenceNumber and up/downstream MTU 1232, zero-padded to 1232 bytes.
const udpSyn = Buffer.concat([hex('ffffffff 0040 0001 12345678 04d0 04d0'), Buffer.alloc(1232 - 16)]);

test('RDP matches an X.224 Connection Request with a cookie and negotiation request', () => {
  assert.equal(rdp.probe(request, 'c2s', ctx()), 'match');
});

test('RDP matches the Connection Confirm with a negotiation response', () => {
  assert.equal(rdp.probe(confirm, 's2c', ctx()), 'match');
});

test('RDP matches the MS-RDPEUDP SYN datagram', () => {
  assert.equal(rdp.probe(udpSyn, 'c2s', ctx('udp')), 'match');
});

test('RDP rejects an ISO-TSAP connection request carrying TSAP parameters (S7comm)', () => {
  // X.224 CR with parameter codes 0xc1/0xc2 (calling/called TSAP) and 0xc0 (TPDU size).
  assert.equal(rdp.probe(hex('0300 0016 11 e0 0000 0001 00 c1 02 0100 c2 02 0102 c0 01 0a'), 'c2s', ctx()), 'no');
});

test('RDP rejects a UDP datagram of another size', () => {
  assert.equal(rdp.probe(udpSyn.subarray(0, 1200), 'c2s', ctx('udp')), 'no');
});

test('RDP needs more for a cut TPKT', () => {
  assert.equal(rdp.probe(hex('0300 002c 27'), 'c2s', ctx()), 'need-more');
});

test('RDP extracts the mstshash cookie', () => {
  assert.deepEqual(extracted(rdp, request, 'c2s'), { rdpCookie: 'eltons' });
});
