import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memcached } from '../../../src/dpi/protocols/memcached.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

// protocol.txt: "set <key> <flags> <exptime> <bytes>\r\n<data>\r\n"
const setCommand = ascii('set session:42 0 3600 5\r\nhello\r\n');
// Binary request header: magic 0x80, opcode GET (0x00), key length 3, extras 0, data type 0,
// vbucket 0, total body 3, opaque, cas 0, then the key.
const binaryGet = hex('80 00 0003 00 00 0000 00000003 deadbeef 0000000000000000 666f6f');

test('Memcached matches a text storage command', () => {
  assert.equal(memcached.probe(setCommand, 'c2s', ctx()), 'match');
});

test('Memcached matches a binary GET request', () => {
  assert.equal(memcached.probe(binaryGet, 'c2s', ctx()), 'match');
});

test('Memcached matches a STORED reply to a storage command', () => {
  assert.equal(memcached.probe(ascii('STORED\r\n'), 's2c', ctx('tcp', setCommand)), 'match');
});

test('Memcached matches a text command in a UDP datagram after the frame header', () => {
  // request id 1, sequence 0, 1 datagram, reserved 0.
  const datagram = Buffer.concat([hex('0001 0000 0001 0000'), ascii('get foo\r\n')]);
  assert.equal(memcached.probe(datagram, 'c2s', ctx('udp')), 'match');
});

test('Memcached rejects a storage command whose byte count is not a number', () => {
  assert.equal(memcached.probe(ascii('set k 0 0 many\r\n'), 'c2s', ctx()), 'no');
});

test('Memcached rejects an SSLv2 ClientHello that starts with 0x80', () => {
  assert.equal(memcached.probe(hex('801c 0103 0100 0300 0000 1000 002f 0707 0707 0707 0707 0707 0707'), 'c2s', ctx()), 'no');
});

test('Memcached rejects an HTTP request', () => {
  assert.equal(memcached.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('Memcached needs more while the command line is open', () => {
  assert.equal(memcached.probe(ascii('get sess'), 'c2s', ctx()), 'need-more');
});

test('Memcached extracts the text command', () => {
  assert.deepEqual(extracted(memcached, setCommand, 'c2s'), { memcachedCommand: 'set' });
});

test('Memcached extracts the binary opcode', () => {
  assert.deepEqual(extracted(memcached, binaryGet, 'c2s'), { memcachedOpcode: 0 });
});

test('Memcached does not take names of JavaScript object properties for commands', () => {
  for (const word of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    assert.equal(memcached.probe(ascii(`${word} a b c d\r\n`), 'c2s', ctx()), 'no', word);
  }
});
