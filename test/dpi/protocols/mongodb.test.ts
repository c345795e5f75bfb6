import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mongodb } from '../../../src/dpi/protocols/mongodb.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** A BSON document of string and int32 elements: int32 length, elements (type, name NUL, value), 0. */
function bson(fields: [string, string | number][]): Buffer {
  const elements = fields.map(([name, value]) => {
    if (typeof value === 'number') {
      const v = Buffer.alloc(4);
      v.writeInt32LE(value);
      return Buffer.concat([hex('10'), ascii(`${name}\0`), v]);
    }
    const len = Buffer.alloc(4);
    len.writeInt32LE(value.length + 1);
    return Buffer.concat([hex('02'), ascii(`${name}\0`), len, ascii(`${value}\0`)]);
  });
  const body = Buffer.concat([...elements, hex('00')]);
  const h = Buffer.alloc(4);
  h.writeInt32LE(body.length + 4);
  return Buffer.concat([h, body]);
}

/** Standard message header: messageLength, requestID, responseTo, opCode (all int32 LE). */
function message(requestId: number, responseTo: number, opCode: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(16 + body.length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return Buffer.concat([h, body]);
}

// OP_MSG (2013): flagBits 0, section kind 0, body {hello: 1, $db: "inventory"}.
const hello = message(7, 0, 2013, Buffer.concat([hex('00000000 00'), bson([['hello', 1], ['$db', 'inventory']])]));
// OP_QUERY (2004): flags, fullCollectionName "admin.$cmd", skip 0, return -1, query {isMaster: 1}.
const isMaster = message(1, 0, 2004, Buffer.concat([hex('00000000'), ascii('admin.$cmd\0'), hex('00000000 ffffffff'), bson([['isMaster', 1]])]));

test('MongoDB matches an OP_MSG hello command', () => {
  assert.equal(mongodb.probe(hello, 'c2s', ctx()), 'match');
});

test('MongoDB matches a legacy OP_QUERY isMaster', () => {
  assert.equal(mongodb.probe(isMaster, 'c2s', ctx()), 'match');
});

test('MongoDB matches an OP_REPLY answering a request', () => {
  // responseFlags, cursorID (8), startingFrom, numberReturned, then documents.
  const reply = message(99, 1, 1, Buffer.concat([hex('08000000 0000000000000000 00000000 01000000'), bson([['ismaster', 1]])]));
  assert.equal(mongodb.probe(reply, 's2c', ctx('tcp', isMaster)), 'match');
});

test('MongoDB rejects a request that claims to answer another message', () => {
  const bad = Buffer.from(isMaster);
  bad.writeInt32LE(5, 8);
  assert.equal(mongodb.probe(bad, 'c2s', ctx()), 'no');
});

test('MongoDB rejects an HTTP request', () => {
  assert.equal(mongodb.probe(ascii('GET /index.html HTTP/1.1\r\n\r\n'), 'c2s', ctx()), 'no');
});

test('MongoDB needs more before the 16-byte header is complete', () => {
  assert.equal(mongodb.probe(hello.subarray(0, 10), 'c2s', ctx()), 'need-more');
});

test('MongoDB extracts the command name and $db of an OP_MSG', () => {
  assert.deepEqual(extracted(mongodb, hello, 'c2s'), { mongoCommand: 'hello', dbName: 'inventory' });
});

test('MongoDB extracts the database from an OP_QUERY collection name', () => {
  assert.deepEqual(extracted(mongodb, isMaster, 'c2s'), { mongoCommand: 'isMaster', dbName: 'admin' });
});
