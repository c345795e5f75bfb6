import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rsync } from '../../../src/dpi/protocols/rsync.js';
import { ascii, ctx, extracted } from '../helpers.js';

// rsyncd greeting: "@RSYNCD: <version>.<sub> <digest list>\n"; then the client names a module.
const client = ascii('@RSYNCD: 31.0 sha512 sha256 sha1 md5 md4\nbackups\n');

test('rsync matches the daemon greeting from the client', () => {
  assert.equal(rsync.probe(client, 'c2s', ctx()), 'match');
});

test('rsync matches the daemon greeting from the server', () => {
  assert.equal(rsync.probe(ascii('@RSYNCD: 30.0\n'), 's2c', ctx()), 'match');
});

test('rsync rejects a greeting without a version number', () => {
  assert.equal(rsync.probe(ascii('@RSYNCD: OK\n'), 's2c', ctx()), 'no');
});

test('rsync rejects an SSH banner', () => {
  assert.equal(rsync.probe(ascii('SSH-2.0-OpenSSH\r\n'), 's2c', ctx()), 'no');
});

test('rsync needs more while the greeting line is open', () => {
  assert.equal(rsync.probe(ascii('@RSYNCD: 3'), 'c2s', ctx()), 'need-more');
});

test('rsync extracts the client version and module', () => {
  assert.deepEqual(extracted(rsync, client, 'c2s'), { rsyncClientVersion: '31.0', rsyncModule: 'backups' });
});
