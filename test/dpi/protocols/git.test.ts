import { test } from 'node:test';
import assert from 'node:assert/strict';
import { git } from '../../../src/dpi/protocols/git.js';
import { ascii, ctx, extracted } from '../helpers.js';

/** pkt-line: 4 hex digits of the total length (including themselves), then the data. */
function pkt(data: string): Buffer {
  return ascii((data.length + 4).toString(16).padStart(4, '0') + data);
}

// gitprotocol-pack: git-proto-request = request-command SP pathname NUL [host-parameter NUL].
const request = pkt('git-upload-pack /project.git\0host=git.example.com\0');
const advertisement = pkt('7217a7c7e582c46cec22a130adf4b9d7d950fba0 HEAD\0multi_ack thin-pack side-band ofs-delta\n');

test('Git matches an upload-pack request', () => {
  assert.equal(git.probe(request, 'c2s', ctx()), 'match');
});

test('Git matches a ref advertisement', () => {
  assert.equal(git.probe(advertisement, 's2c', ctx('tcp', request)), 'match');
});

test('Git matches a protocol v2 capability advertisement', () => {
  assert.equal(git.probe(pkt('version 2\n'), 's2c', ctx()), 'match');
});

test('Git rejects a pkt-line naming an unknown service', () => {
  assert.equal(git.probe(pkt('git-frobnicate /x\0'), 'c2s', ctx()), 'no');
});

test('Git rejects an HTTP request', () => {
  assert.equal(git.probe(ascii('GET /info/refs HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('Git needs more while the pkt-line is cut', () => {
  assert.equal(git.probe(request.subarray(0, 12), 'c2s', ctx()), 'need-more');
});

test('Git extracts service, repository and host', () => {
  assert.deepEqual(extracted(git, request, 'c2s'), { gitService: 'git-upload-pack', gitRepository: '/project.git', gitHost: 'git.example.com' });
});
