import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kerberos } from '../../../src/dpi/protocols/kerberos.js';
import { ctx, extracted, hex } from '../helpers.js';

// RFC 4120 5.4.1 AS-REQ ::= [APPLICATION 10] KDC-REQ { pvno [1] 5, msg-type [2] 10,
// req-body [4] { kdc-options [0] BIT STRING, cname [1] { name-type [0] 1, name-string [1] { "alice" } },
// realm [2] "EXAMPLE.COM" } }.
const asReq = hex(`
  6a 49 30 47
    a1 03 02 01 05                       # pvno 5
    a2 03 02 01 0a                       # msg-type 10
    a4 3b 30 39
      a0 07 03 05 0050800000             # kdc-options
      a1 12 30 10 a0 03 02 01 01 a1 09 30 07 1b 05 616c696365   # cname alice
      a2 0d 1b 0b 4558414d504c452e434f4d                       # realm EXAMPLE.COM
      a3 0b 30 09 a0 03 02 01 02 a1 02 30 00                   # sname with no names
`);
// KRB-ERROR [APPLICATION 30] { pvno [0] 5, msg-type [1] 30, ... }.
const krbError = hex('7e 0e 30 0c a0 03 02 01 05 a1 03 02 01 1e a6 02 00 00');

test('Kerberos matches an AS-REQ over UDP', () => {
  assert.equal(kerberos.probe(asReq, 'c2s', ctx('udp')), 'match');
});

test('Kerberos matches an AS-REQ over TCP with its 4-byte length', () => {
  const framed = Buffer.concat([Buffer.from([0, 0, 0, asReq.length]), asReq]);
  assert.equal(kerberos.probe(framed, 'c2s', ctx('tcp')), 'match');
});

test('Kerberos matches a KRB-ERROR', () => {
  assert.equal(kerberos.probe(krbError, 's2c', ctx('udp')), 'match');
});

test('Kerberos rejects a message whose msg-type disagrees with its application tag', () => {
  const bad = Buffer.from(asReq);
  bad[13] = 0x0c;
  assert.equal(kerberos.probe(bad, 'c2s', ctx('udp')), 'no');
});

test('Kerberos rejects an LDAP message', () => {
  assert.equal(kerberos.probe(hex('30 0c 02 01 01 61 07 0a 01 00 04 00 04 00'), 'c2s', ctx('udp')), 'no');
});

test('Kerberos needs more for a cut TCP length', () => {
  assert.equal(kerberos.probe(hex('0000'), 'c2s', ctx('tcp')), 'need-more');
});

test('Kerberos extracts message type, realm and client principal', () => {
  assert.deepEqual(extracted(kerberos, asReq, 'c2s', ctx('udp')), {
    kerberosMessage: 'AS-REQ', kerberosRealm: 'EXAMPLE.COM', kerberosClient: 'alice',
  });
});
