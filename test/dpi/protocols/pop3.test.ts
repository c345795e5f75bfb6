import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pop3 } from '../../../src/dpi/protocols/pop3.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 1939 section 4 greeting and section 7 USER/PASS.
const greeting = ascii('+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n');
const plainGreeting = ascii('+OK ready\r\n');
const login = ascii('USER mrose\r\nPASS secret\r\n');

test('POP3 matches a greeting that names POP', () => {
  assert.equal(pop3.probe(greeting, 's2c', ctx()), 'match');
});

test('POP3 matches a plain +OK greeting answered by USER', () => {
  assert.equal(pop3.probe(login, 'c2s', ctx('tcp', plainGreeting)), 'match');
});

test('POP3 rejects an FTP greeting', () => {
  assert.equal(pop3.probe(ascii('220 FTP ready\r\n'), 's2c', ctx()), 'no');
});

test('POP3 rejects a Redis client answered by +OK', () => {
  assert.equal(pop3.probe(ascii('*1\r\n$4\r\nPING\r\n'), 'c2s', ctx('tcp', plainGreeting)), 'no');
});

test('POP3 needs more for a cut greeting', () => {
  assert.equal(pop3.probe(ascii('+O'), 's2c', ctx()), 'need-more');
});

test('POP3 extracts the user name', () => {
  assert.deepEqual(extracted(pop3, login, 'c2s'), { pop3User: 'mrose' });
});
