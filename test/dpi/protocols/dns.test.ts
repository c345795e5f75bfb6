import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dns } from '../../../src/dpi/protocols/dns.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// RFC 1035 4.1: header (id, flags RD, QDCOUNT 1), question www.example.com A IN.
const query = hex(`
  abcd 0100 0001 0000 0000 0000            # id, RD, 1 question
  03777777 076578616d706c65 03636f6d 00     # www.example.com
  0001 0001                                 # A, IN
`);
// The response: QR|RD|RA, 1 question, 2 answers: a CNAME whose name is a pointer to the question
// (0xc00c, section 4.1.4) pointing at "web.example.com" (label + pointer to offset 16), then an A record.
const response = hex(`
  abcd 8180 0001 0002 0000 0000
  03777777 076578616d706c65 03636f6d 00 0001 0001
  c00c 0005 0001 0000012c 0006 03776562 c010          # CNAME web.example.com, ttl 300
  c02d 0001 0001 0000003c 0004 5db8d822              # A 93.184.216.34, ttl 60
`);

test('DNS matches a standard query over UDP', () => {
  assert.equal(dns.probe(query, 'c2s', ctx('udp', Buffer.alloc(0), 53)), 'match');
});

test('DNS matches a query over TCP with its length prefix', () => {
  const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
  assert.equal(dns.probe(framed, 'c2s', ctx('tcp', Buffer.alloc(0), 53)), 'match');
});

test('DNS matches a response', () => {
  assert.equal(dns.probe(response, 's2c', ctx('udp')), 'match');
});

test('DNS rejects an NTP client packet', () => {
  const ntp = Buffer.concat([hex('23 00 06 20'), Buffer.alloc(44)]);
  assert.equal(dns.probe(ntp, 'c2s', ctx('udp')), 'no');
});

test('DNS rejects a compression pointer that points forward', () => {
  assert.equal(dns.probe(hex('abcd 0100 0001 0000 0000 0000 c020 0001 0001'), 'c2s', ctx('udp')), 'no');
});

test('DNS rejects a query whose question runs past the datagram', () => {
  assert.equal(dns.probe(query.subarray(0, query.length - 3), 'c2s', ctx('udp')), 'no');
});

test('DNS needs more for a TCP message not yet complete', () => {
  const framed = Buffer.concat([Buffer.from([0, query.length]), query]);
  assert.equal(dns.probe(framed.subarray(0, 20), 'c2s', ctx('tcp')), 'need-more');
});

test('DNS extracts the question and the CNAME and A answers with their TTLs', () => {
  const meta = extracted(dns, query, 'c2s', ctx('udp'));
  extracted(dns, response, 's2c', ctx('udp'), meta);
  assert.deepEqual(meta, {
    dnsQuery: 'www.example.com',
    dnsAnswers: [
      { name: 'www.example.com', type: 'CNAME', value: 'web.example.com', ttl: 300 },
      { name: 'web.example.com', type: 'A', value: '93.184.216.34', ttl: 60 },
    ],
  });
});

test('DNS writes AAAA answers in RFC 5952 form', () => {
  const aaaa = hex(`
    0001 8180 0001 0001 0000 0000 01610000 1c0001
    c00c 001c 0001 00000e10 0010 20010db8000000000000000000000001
  `);
  assert.deepEqual(extracted(dns, aaaa, 's2c', ctx('udp')).dnsAnswers, [{ name: 'a', type: 'AAAA', value: '2001:db8::1', ttl: 3600 }]);
});

test('DNS does not loop on a pointer to itself', () => {
  assert.equal(dns.probe(ascii('\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01'), 's2c', ctx('udp')), 'no');
});

test('DNS rejects a NetBIOS name query, which borrows the DNS format', () => {
  // RFC 1002 4.2.12: NAME_QUERY for "*" (first-level encoded 'CK' + 'AA' * 15), type NB (0x20), class IN.
  const nbns = hex(`1234 0110 0001 0000 0000 0000 20 434b${'4141'.repeat(15)} 00 0020 0001`);
  assert.equal(dns.probe(nbns, 'c2s', ctx('udp', Buffer.alloc(0), 137)), 'no');
});
