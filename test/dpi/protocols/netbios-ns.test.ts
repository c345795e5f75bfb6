import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netbiosNs } from '../../../src/dpi/protocols/netbios-ns.js';
import { ctx, extracted, hex } from '../helpers.js';

/** RFC 1001 first-level encoding: each nibble of the 16-byte name becomes 'A' + nibble. */
function encode(name: string, suffix: number): Buffer {
  const raw = Buffer.alloc(16, 0x20);
  raw.write(name, 'latin1');
  raw[15] = suffix;
  const out = Buffer.alloc(32);
  raw.forEach((c, i) => {
    out[2 * i] = 0x41 + (c >> 4);
    out[2 * i + 1] = 0x41 + (c & 0x0f);
  });
  return out;
}

// NAME QUERY REQUEST (RFC 1002 section 4.2.12): id, flags 0x0110 (query, RD, broadcast),
// QDCOUNT 1, then the encoded name (length 0x20), root label, type NB (0x0020), class IN.
const query = Buffer.concat([hex('8a1f 0110 0001 0000 0000 0000 20'), encode('FILESERVER', 0x20), hex('00 0020 0001')]);

test('NetBIOS-NS matches a name query', () => {
  assert.equal(netbiosNs.probe(query, 'c2s', ctx('udp')), 'match');
});

test('NetBIOS-NS rejects an ordinary DNS query', () => {
  assert.equal(netbiosNs.probe(hex('1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001'), 'c2s', ctx('udp')), 'no');
});

test('NetBIOS-NS rejects a name with letters outside A..P', () => {
  const bad = Buffer.from(query);
  bad[13] = 0x5a;
  assert.equal(netbiosNs.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('NetBIOS-NS rejects a datagram cut inside the name', () => {
  assert.equal(netbiosNs.probe(query.subarray(0, 30), 'c2s', ctx('udp')), 'no');
});

test('NetBIOS-NS extracts the decoded name and suffix', () => {
  assert.deepEqual(extracted(netbiosNs, query, 'c2s', ctx('udp')), { netbiosName: 'FILESERVER', netbiosSuffix: 0x20 });
});
