import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whois } from '../../../src/dpi/protocols/whois.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 3912: the query is one line ending in CRLF; the answer is text.
const queryLine = ascii('example.com\r\n');
const ianaAnswer = ascii('% IANA WHOIS server\n% for more information on IANA, visit http://www.iana.org\n\nrefer:        whois.verisign-grs.com\n\ndomain:       COM\n');

test('WHOIS matches a query answered with comment lines and records', () => {
  assert.equal(whois.probe(ianaAnswer, 's2c', ctx('tcp', queryLine)), 'match');
});

test('WHOIS matches a query with RIPE flags once a record answers it', () => {
  const answer = ascii('inetnum:        193.0.0.0 - 193.0.7.255\nnetname:        RIPE-NCC\n');
  assert.equal(whois.probe(ascii('-B 193.0.0.1\r\n'), 'c2s', ctx('tcp', answer)), 'match');
});

test('WHOIS rejects a client that sends more than one line', () => {
  assert.equal(whois.probe(ascii('HELO mail.example.com\r\nMAIL FROM:<a@b>\r\n'), 'c2s', ctx('tcp', ianaAnswer)), 'no');
});

test('WHOIS rejects an HTTP request', () => {
  assert.equal(whois.probe(ascii('GET / HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('WHOIS needs more while only the query was seen', () => {
  assert.equal(whois.probe(queryLine, 'c2s', ctx()), 'need-more');
});

test('WHOIS extracts the queried object', () => {
  assert.deepEqual(extracted(whois, ascii('-B 193.0.0.1\r\n'), 'c2s'), { whoisQuery: '193.0.0.1' });
});

test('WHOIS extracts the referral to the next server', () => {
  assert.deepEqual(extracted(whois, ianaAnswer, 's2c'), { whoisReferral: 'whois.verisign-grs.com' });
});
