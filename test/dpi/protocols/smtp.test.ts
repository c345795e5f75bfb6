import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtp } from '../../../src/dpi/protocols/smtp.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 5321 4.3.1 greeting and the D.1 scenario's client side.
const greeting = ascii('220 foo.com Simple Mail Transfer Service Ready\r\n');
const plainGreeting = ascii('220 foo.com ready\r\n');
const client = ascii('EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n');

test('SMTP matches a greeting that names SMTP', () => {
  assert.equal(smtp.probe(ascii('220 mx.example.com ESMTP Postfix\r\n'), 's2c', ctx()), 'match');
});

test('SMTP matches a plain 220 greeting answered by EHLO', () => {
  assert.equal(smtp.probe(client, 'c2s', ctx('tcp', plainGreeting)), 'match');
});

test('SMTP rejects a session whose client answers the 220 with USER', () => {
  assert.equal(smtp.probe(ascii('USER anonymous\r\n'), 'c2s', ctx('tcp', plainGreeting)), 'no');
});

test('SMTP rejects an IMAP greeting', () => {
  assert.equal(smtp.probe(ascii('* OK IMAP4rev1 ready\r\n'), 's2c', ctx()), 'no');
});

test('SMTP needs more for a greeting that does not say what it is', () => {
  assert.equal(smtp.probe(greeting.subarray(0, 2), 's2c', ctx()), 'need-more');
  assert.equal(smtp.probe(plainGreeting, 's2c', ctx()), 'need-more');
});

test('SMTP extracts HELO name and envelope addresses', () => {
  assert.deepEqual(extracted(smtp, client, 'c2s'), { smtpHelo: 'bar.com', smtpMailFrom: 'Smith@bar.com', smtpRcptTo: 'Jones@foo.com' });
});
