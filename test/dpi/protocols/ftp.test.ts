import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ftp } from '../../../src/dpi/protocols/ftp.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 959 4.2: replies are a 3-digit code and text; 220 "Service ready for new user".
const greeting = ascii('220 (vsFTPd 3.0.5)\r\n');
const plainGreeting = ascii('220 Welcome\r\n');
const login = ascii('USER anonymous\r\nPASS guest@\r\n');

test('FTP matches a greeting that names FTP', () => {
  assert.equal(ftp.probe(greeting, 's2c', ctx()), 'match');
});

test('FTP matches a plain 220 greeting once the client sends USER', () => {
  assert.equal(ftp.probe(login, 'c2s', ctx('tcp', plainGreeting)), 'match');
});

test('FTP rejects a session whose client answers the 220 with EHLO', () => {
  assert.equal(ftp.probe(ascii('EHLO client.example.com\r\n'), 'c2s', ctx('tcp', plainGreeting)), 'no');
});

test('FTP rejects a POP3 greeting', () => {
  assert.equal(ftp.probe(ascii('+OK POP3 ready\r\n'), 's2c', ctx()), 'no');
});

test('FTP needs more for a plain greeting without the client command', () => {
  assert.equal(ftp.probe(plainGreeting, 's2c', ctx()), 'need-more');
  assert.equal(ftp.probe(ascii('22'), 's2c', ctx()), 'need-more');
});

test('FTP extracts the user name', () => {
  assert.deepEqual(extracted(ftp, login, 'c2s'), { ftpUser: 'anonymous' });
});
