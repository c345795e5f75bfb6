import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ldap } from '../../../src/dpi/protocols/ldap.js';
import { ctx, extracted, hex } from '../helpers.js';

// RFC 4511 4.1.1/4.2 in BER: LDAPMessage SEQUENCE { messageID 1, BindRequest [APPLICATION 0]
// { version 3, name "cn=admin", simple [0] "secret" } }.
const bind = hex(`
  30 1c                       # LDAPMessage
    02 01 01                  # messageID 1
    60 17                     # [APPLICATION 0] BindRequest
      02 01 03                # version 3
      04 08 636e3d61646d696e  # name "cn=admin"
      80 06 736563726574      # simple "secret"
`);
// BindResponse [APPLICATION 1] { resultCode success, matchedDN "", diagnosticMessage "" }.
const bindResponse = hex('30 0c 02 01 01 61 07 0a 01 00 04 00 04 00');

test('LDAP matches a BindRequest', () => {
  assert.equal(ldap.probe(bind, 'c2s', ctx()), 'match');
});

test('LDAP matches a BindResponse', () => {
  assert.equal(ldap.probe(bindResponse, 's2c', ctx()), 'match');
});

test('LDAP rejects an SNMP message, whose second element is not a message id followed by an operation', () => {
  assert.equal(ldap.probe(hex('30 1a 02 01 01 04 06 7075626c6963 a0 0d 02 01 01 02 01 00 02 01 00 30 02 30 00'), 'c2s', ctx('udp')), 'no');
});

test('LDAP rejects a bind with protocol version 9', () => {
  const bad = Buffer.from(bind);
  bad[9] = 9;
  assert.equal(ldap.probe(bad, 'c2s', ctx()), 'no');
});

test('LDAP needs more for a cut message header', () => {
  assert.equal(ldap.probe(hex('30 1c 02'), 'c2s', ctx()), 'need-more');
});

test('LDAP extracts the operation and the bind name', () => {
  assert.deepEqual(extracted(ldap, bind, 'c2s'), { ldapOperation: 'bindRequest', ldapBindName: 'cn=admin' });
});
