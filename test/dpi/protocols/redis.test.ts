import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redis } from '../../../src/dpi/protocols/redis.js';
import { ascii, ctx, extracted } from '../helpers.js';

// RESP: an array "*<n>\r\n" of bulk strings "$<len>\r\n<bytes>\r\n".
const setCommand = ascii('*3\r\n$3\r\nSET\r\n$4\r\nuser\r\n$5\r\nalice\r\n');

test('Redis matches a RESP array of bulk strings from a client', () => {
  assert.equal(redis.probe(setCommand, 'c2s', ctx()), 'match');
});

test('Redis matches an inline command', () => {
  assert.equal(redis.probe(ascii('PING\r\n'), 'c2s', ctx()), 'match');
});

test('Redis matches a bulk string reply on its own', () => {
  assert.equal(redis.probe(ascii('$5\r\nalice\r\n'), 's2c', ctx()), 'match');
});

test('Redis matches a simple +OK reply only after a request', () => {
  assert.equal(redis.probe(ascii('+OK\r\n'), 's2c', ctx()), 'need-more');
  assert.equal(redis.probe(ascii('+OK\r\n'), 's2c', ctx('tcp', setCommand)), 'match');
});

test('Redis rejects a POP3 greeting answered by USER', () => {
  assert.equal(redis.probe(ascii('+OK POP3 ready\r\n'), 's2c', ctx('tcp', ascii('USER bob\r\n'))), 'no');
});

test('Redis leaves a lower-case inline "get" to the memcached text protocol', () => {
  assert.equal(redis.probe(ascii('get session:42\r\n'), 'c2s', ctx()), 'no');
});

test('Redis rejects an HTTP GET request line', () => {
  assert.equal(redis.probe(ascii('GET /index.html HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('Redis needs more while the first bulk string is cut', () => {
  assert.equal(redis.probe(ascii('*3\r\n$3\r\nSE'), 'c2s', ctx()), 'need-more');
});

test('Redis extracts the command name', () => {
  assert.deepEqual(extracted(redis, setCommand, 'c2s'), { redisCommand: 'SET' });
});
