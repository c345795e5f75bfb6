import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ssh } from '../../../src/dpi/protocols/ssh.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 4253 4.2: SSH-protoversion-softwareversion SP comments CR LF.
const server = ascii('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n');
const client = ascii('SSH-2.0-PuTTY_Release_0.80\r\n');

test('SSH matches the identification line of either side', () => {
  assert.equal(ssh.probe(server, 's2c', ctx()), 'match');
  assert.equal(ssh.probe(client, 'c2s', ctx()), 'match');
});

test('SSH accepts the 1.99 compatibility version', () => {
  assert.equal(ssh.probe(ascii('SSH-1.99-Cisco-1.25\r\n'), 's2c', ctx()), 'match');
});

test('SSH rejects an SMTP greeting', () => {
  assert.equal(ssh.probe(ascii('220 mail.example.com ESMTP\r\n'), 's2c', ctx()), 'no');
});

test('SSH rejects an unknown protocol version', () => {
  assert.equal(ssh.probe(ascii('SSH-3.0-x\r\n'), 's2c', ctx()), 'no');
});

test('SSH needs more for a cut banner', () => {
  assert.equal(ssh.probe(ascii('SSH-2'), 's2c', ctx()), 'need-more');
});

test('SSH extracts both identification lines', () => {
  const meta = extracted(ssh, server, 's2c');
  extracted(ssh, client, 'c2s', ctx(), meta);
  assert.deepEqual(meta, { sshServer: 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13', sshClient: 'SSH-2.0-PuTTY_Release_0.80' });
});
