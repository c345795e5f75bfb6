import { test } from 'node:test';
import assert from 'node:assert/strict';
import { irc } from '../../../src/dpi/protocols/irc.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RFC 2812 section 3.1: connection registration with NICK then USER <user> <mode> <unused> :<realname>.
const register = ascii('NICK molochtest\r\nUSER moloch 0 * :Moloch Test\r\n');
const notice = ascii(':card.freenode.net NOTICE * :*** Looking up your hostname...\r\n');

test('IRC matches a client registering with NICK', () => {
  assert.equal(irc.probe(register, 'c2s', ctx()), 'match');
});

test('IRC matches a server NOTICE with a prefix', () => {
  assert.equal(irc.probe(notice, 's2c', ctx()), 'match');
});

test('IRC rejects a nickname that starts with a digit', () => {
  assert.equal(irc.probe(ascii('NICK 9lives\r\n'), 'c2s', ctx()), 'no');
});

test('IRC rejects an SMTP greeting', () => {
  assert.equal(irc.probe(ascii('220 mail.example.com ESMTP\r\n'), 's2c', ctx()), 'no');
});

test('IRC needs more while the first line is open', () => {
  assert.equal(irc.probe(ascii('NICK mol'), 'c2s', ctx()), 'need-more');
});

test('IRC extracts the nickname from the registration', () => {
  assert.deepEqual(extracted(irc, register, 'c2s'), { ircNick: 'molochtest' });
});

test('IRC extracts the server name from its prefix', () => {
  assert.deepEqual(extracted(irc, notice, 's2c'), { ircServer: 'card.freenode.net' });
});
