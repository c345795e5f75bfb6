import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syslog } from '../../../src/dpi/protocols/syslog.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 5424 6.5 example 1: PRI 34 = facility 4 (auth) * 8 + severity 2 (critical), version 1.
const rfc5424 = ascii('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM\'su root\' failed');
// RFC 3164 5.4 example: PRI 13 then the BSD timestamp.
const rfc3164 = ascii('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!');

test('Syslog matches an RFC 5424 message', () => {
  assert.equal(syslog.probe(rfc5424, 'c2s', ctx('udp')), 'match');
});

test('Syslog matches an RFC 3164 message', () => {
  assert.equal(syslog.probe(rfc3164, 'c2s', ctx('udp')), 'match');
});

test('Syslog matches an octet-counted message over TCP (RFC 6587 3.4.1)', () => {
  assert.equal(syslog.probe(Buffer.concat([ascii('86 '), rfc5424]), 'c2s', ctx('tcp')), 'match');
});

test('Syslog rejects a PRI above 191 and a leading zero', () => {
  assert.equal(syslog.probe(ascii('<192>x'), 'c2s', ctx('udp')), 'no');
  assert.equal(syslog.probe(ascii('<034>x'), 'c2s', ctx('udp')), 'no');
});

test('Syslog rejects an XML document', () => {
  assert.equal(syslog.probe(ascii('<?xml version="1.0"?>'), 'c2s', ctx('udp')), 'no');
});

test('Syslog needs more for a cut PRI', () => {
  assert.equal(syslog.probe(ascii('<3'), 'c2s', ctx('udp')), 'need-more');
});

test('Syslog extracts facility and severity', () => {
  assert.deepEqual(extracted(syslog, rfc5424, 'c2s', ctx('udp')), { syslogFacility: 4, syslogSeverity: 2 });
});
