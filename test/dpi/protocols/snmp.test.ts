import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snmp } from '../../../src/dpi/protocols/snmp.js';
import { ctx, extracted, hex } from '../helpers.js';

// RFC 1157 4.1 / RFC 3416: Message { version 1 (v2c), community "public", GetRequest [0]
// { request-id 1, error-status 0, error-index 0, varbinds { { sysDescr.0, NULL } } } }.
const get = hex(`
  30 26 02 01 01 04 06 7075626c6963
  a0 19 02 01 01 02 01 00 02 01 00
    30 0e 30 0c 06 08 2b06010201010100 05 00
`);
// RFC 3412 6: SNMPv3 message { version 3, msgGlobalData SEQUENCE { ... } ... }.
const v3 = hex('30 11 02 01 03 30 0c 02 01 01 02 02 05dc 04 01 04 02 01 03');

test('SNMP matches a v2c GetRequest', () => {
  assert.equal(snmp.probe(get, 'c2s', ctx('udp')), 'match');
});

test('SNMP matches a v3 message header', () => {
  assert.equal(snmp.probe(v3, 'c2s', ctx('udp')), 'match');
});

test('SNMP rejects an LDAP message', () => {
  assert.equal(snmp.probe(hex('30 0c 02 01 01 61 07 0a 01 00 04 00 04 00'), 'c2s', ctx('udp')), 'no');
});

test('SNMP rejects version 2', () => {
  const bad = Buffer.from(get);
  bad[4] = 2;
  assert.equal(snmp.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('SNMP needs more for a cut header', () => {
  assert.equal(snmp.probe(hex('30'), 'c2s', ctx('udp')), 'need-more');
});

test('SNMP extracts version and community', () => {
  assert.deepEqual(extracted(snmp, get, 'c2s', ctx('udp')), { snmpVersion: '2c', snmpCommunity: 'public' });
});
