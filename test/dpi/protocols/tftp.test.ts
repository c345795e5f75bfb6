import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tftp } from '../../../src/dpi/protocols/tftp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// RFC 1350 5: RRQ = opcode 1, filename NUL, mode NUL; RFC 2348 adds "blksize" NUL "1468" NUL.
const rrq = Buffer.concat([hex('0001'), ascii('pxelinux.0\0octet\0blksize\x001468\0')]);

test('TFTP matches a read request', () => {
  assert.equal(tftp.probe(rrq, 'c2s', ctx('udp')), 'match');
});

test('TFTP matches the first DATA block and an option acknowledgement', () => {
  assert.equal(tftp.probe(Buffer.concat([hex('0003 0001'), Buffer.alloc(512, 1)]), 's2c', ctx('udp')), 'match');
  assert.equal(tftp.probe(Buffer.concat([hex('0006'), ascii('blksize\x001468\0')]), 's2c', ctx('udp')), 'match');
});

test('TFTP rejects a request with an unknown transfer mode', () => {
  assert.equal(tftp.probe(Buffer.concat([hex('0001'), ascii('file\0binary\0')]), 'c2s', ctx('udp')), 'no');
});

test('TFTP rejects an unterminated file name', () => {
  assert.equal(tftp.probe(Buffer.concat([hex('0001'), ascii('file')]), 'c2s', ctx('udp')), 'no');
});

test('TFTP extracts file and mode', () => {
  assert.deepEqual(extracted(tftp, rrq, 'c2s', ctx('udp')), { tftpFile: 'pxelinux.0', tftpMode: 'octet' });
});
