import { test } from 'node:test';
import assert from 'node:assert/strict';
import { telnet } from '../../../src/dpi/protocols/telnet.js';
import { ascii, ctx, hex } from '../helpers.js';

test('Telnet matches option negotiation: IAC DO TERMINAL-TYPE (RFC 854, RFC 1091)', () => {
  assert.equal(telnet.probe(hex('fffd18 fffd20 fffd23 fffd27'), 's2c', ctx()), 'match');
});

test('Telnet matches a subnegotiation: IAC SB NAWS (RFC 1073)', () => {
  assert.equal(telnet.probe(hex('fffa1f 0050 0018 fff0'), 'c2s', ctx()), 'match');
});

test('Telnet rejects an SMB1 header, which also starts with 0xff', () => {
  assert.equal(telnet.probe(ascii('\xffSMBr'), 'c2s', ctx()), 'no');
});

test('Telnet rejects an unregistered option code', () => {
  assert.equal(telnet.probe(hex('fffb c8'), 's2c', ctx()), 'no');
});

test('Telnet needs more for a lone IAC', () => {
  assert.equal(telnet.probe(hex('ff'), 's2c', ctx()), 'need-more');
});
