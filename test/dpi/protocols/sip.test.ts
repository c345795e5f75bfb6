import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sip } from '../../../src/dpi/protocols/sip.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 3261 section 24.2 style INVITE: Request-Line, Via, Max-Forwards, To, From, Call-ID, CSeq.
const invite = ascii([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'User-Agent: Linphone/5.2',
  '', '',
].join('\r\n'));

test('SIP matches an INVITE over UDP', () => {
  assert.equal(sip.probe(invite, 'c2s', ctx('udp')), 'match');
});

test('SIP matches a status line', () => {
  assert.equal(sip.probe(ascii('SIP/2.0 180 Ringing\r\nCSeq: 314159 INVITE\r\n\r\n'), 's2c', ctx('udp')), 'match');
});

test('SIP rejects a request whose URI is not sip:, sips: or tel:', () => {
  assert.equal(sip.probe(ascii('INVITE http://x SIP/2.0\r\n\r\n'), 'c2s', ctx('udp')), 'no');
});

test('SIP rejects an RTSP request', () => {
  assert.equal(sip.probe(ascii('OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('SIP needs more while the request line is open', () => {
  assert.equal(sip.probe(ascii('REGISTER sip:reg'), 'c2s', ctx()), 'need-more');
});

test('SIP extracts method, request URI, From, To and User-Agent', () => {
  assert.deepEqual(extracted(sip, invite, 'c2s', ctx('udp')), {
    sipMethod: 'INVITE',
    sipUri: 'sip:bob@biloxi.example.com',
    sipFrom: 'sip:alice@atlanta.example.com',
    sipTo: 'sip:bob@biloxi.example.com',
    sipUserAgent: 'Linphone/5.2',
  });
});

test('SIP extracts the status of a response', () => {
  assert.deepEqual(extracted(sip, ascii('SIP/2.0 200 OK\r\nServer: Asterisk PBX 20\r\n\r\n'), 's2c', ctx('udp')), { sipStatus: 200, sipUserAgent: 'Asterisk PBX 20' });
});
