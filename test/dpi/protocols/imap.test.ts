import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imap } from '../../../src/dpi/protocols/imap.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 9051 section 8 example: greeting, then tagged commands.
const greeting = ascii('* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI] Server ready\r\n');
const login = ascii('a001 LOGIN SMITH SESAME\r\n');

test('IMAP matches a greeting that names IMAP', () => {
  assert.equal(imap.probe(greeting, 's2c', ctx()), 'match');
});

test('IMAP matches a tagged client command', () => {
  assert.equal(imap.probe(login, 'c2s', ctx()), 'match');
});

test('IMAP rejects a POP3 greeting', () => {
  assert.equal(imap.probe(ascii('+OK POP3 ready\r\n'), 's2c', ctx()), 'no');
});

test('IMAP rejects an HTTP request, whose second word is not an IMAP command', () => {
  assert.equal(imap.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('IMAP needs more for a bare untagged OK', () => {
  assert.equal(imap.probe(ascii('* OK ready\r\n'), 's2c', ctx()), 'need-more');
  assert.equal(imap.probe(ascii('a001 LOG'), 'c2s', ctx()), 'need-more');
});

test('IMAP extracts the LOGIN user', () => {
  assert.deepEqual(extracted(imap, login, 'c2s'), { imapUser: 'SMITH' });
});
