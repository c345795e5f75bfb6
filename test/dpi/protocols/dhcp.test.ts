import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dhcp } from '../../../src/dpi/protocols/dhcp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** RFC 2131 2: op, htype 1, hlen 6, hops, xid, ..., chaddr, sname, file, then the magic cookie and options. */
function message(op: number, options: Buffer): Buffer {
  const fixed = Buffer.alloc(236);
  fixed[0] = op;
  fixed[1] = 1;
  fixed[2] = 6;
  fixed.writeUInt32BE(0x3903f326, 4);
  hex('001122334455').copy(fixed, 28);
  return Buffer.concat([fixed, hex('63825363'), options, hex('ff')]);
}

// RFC 2132: option 53 (message type DISCOVER), 12 (host name), 60 (vendor class).
const discover = message(1, Buffer.concat([hex('35 01 01'), hex('0c 04'), ascii('box1'), hex('3c 08'), ascii('MSFT 5.0')]));

test('DHCP matches a DISCOVER with the magic cookie', () => {
  assert.equal(dhcp.probe(discover, 'c2s', ctx('udp')), 'match');
});

test('DHCP rejects a message without the magic cookie', () => {
  const bad = Buffer.from(discover);
  bad[236] = 0;
  assert.equal(dhcp.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('DHCP rejects a short datagram', () => {
  assert.equal(dhcp.probe(discover.subarray(0, 200), 'c2s', ctx('udp')), 'no');
});

test('DHCP extracts message type, host name and vendor class', () => {
  assert.deepEqual(extracted(dhcp, discover, 'c2s', ctx('udp')), { dhcpMessageType: 'DISCOVER', dhcpHostname: 'box1', dhcpVendorClass: 'MSFT 5.0' });
});
