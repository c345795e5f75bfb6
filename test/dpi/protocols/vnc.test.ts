import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vnc } from '../../../src/dpi/protocols/vnc.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 6143 7.1.1: ProtocolVersion is 12 bytes "RFB 003.008\n".
const version = ascii('RFB 003.008\n');

test('VNC matches the ProtocolVersion message', () => {
  assert.equal(vnc.probe(version, 's2c', ctx()), 'match');
});

test('VNC rejects a version without the newline', () => {
  assert.equal(vnc.probe(ascii('RFB 003.008 '), 's2c', ctx()), 'no');
});

test('VNC rejects an FTP greeting', () => {
  assert.equal(vnc.probe(ascii('220 ready\r\n'), 's2c', ctx()), 'no');
});

test('VNC needs more for a cut version', () => {
  assert.equal(vnc.probe(ascii('RFB 00'), 's2c', ctx()), 'need-more');
});

test('VNC extracts the version each side announced', () => {
  const meta = extracted(vnc, version, 's2c');
  extracted(vnc, ascii('RFB 003.007\n'), 'c2s', ctx(), meta);
  assert.deepEqual(meta, { vncServerVersion: '003.008', vncClientVersion: '003.007' });
});
