import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smb } from '../../../src/dpi/protocols/smb.js';
import { ctx, extracted, hex } from '../helpers.js';

// MS-SMB2 2.1 transport header (0x00, 24-bit length) then 2.2.1 SMB2 header: ProtocolId 0xFE 'SMB',
// StructureSize 64, ... Command NEGOTIATE (0).
const smb2 = Buffer.concat([hex('00 000044 fe534d42 4000 0000 00000000 0000'), Buffer.alloc(56)]);
// MS-CIFS 2.2.3.1: 0xFF 'SMB', Command 0x72 (NEGOTIATE).
const smb1 = Buffer.concat([hex('00 000023 ff534d42 72'), Buffer.alloc(30)]);
// RFC 1002 4.3.2 SESSION REQUEST: type 0x81, length 68, called and calling names first-level
// encoded (RFC 1001 14.1: each nibble + 'A'), here "*SMBSERVER" and "CLIENT" padded with spaces.
function encode(name: string): Buffer {
  const padded = name.padEnd(16, ' ');
  const out = [32];
  for (const c of Buffer.from(padded, 'latin1')) out.push(0x41 + (c >> 4), 0x41 + (c & 0x0f));
  return Buffer.concat([Buffer.from(out), hex('00')]);
}
const sessionRequest = Buffer.concat([hex('81 000044'), encode('*SMBSERVER'), encode('CLIENT')]);

test('SMB matches an SMB2 message over direct TCP', () => {
  assert.equal(smb.probe(smb2, 'c2s', ctx()), 'match');
});

test('SMB matches an SMB1 message', () => {
  assert.equal(smb.probe(smb1, 'c2s', ctx()), 'match');
});

test('SMB matches a NetBIOS session request', () => {
  assert.equal(smb.probe(sessionRequest, 'c2s', ctx()), 'match');
});

test('SMB rejects a session message that does not carry an SMB header', () => {
  assert.equal(smb.probe(Buffer.concat([hex('00 000040 12534d42'), Buffer.alloc(60)]), 'c2s', ctx()), 'no');
});

test('SMB rejects a TPKT header', () => {
  assert.equal(smb.probe(hex('0300 002b 26e0 0000 0000 00'), 'c2s', ctx()), 'no');
});

test('SMB needs more for a cut session header', () => {
  assert.equal(smb.probe(hex('00 0000'), 'c2s', ctx()), 'need-more');
});

test('SMB extracts the dialect family', () => {
  assert.deepEqual(extracted(smb, smb2, 'c2s'), { smbVersion: '2' });
  assert.deepEqual(extracted(smb, Buffer.concat([hex('82 000000'), smb1]), 's2c'), { smbVersion: '1' });
});
