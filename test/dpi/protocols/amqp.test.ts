import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amqp } from '../../../src/dpi/protocols/amqp.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

const header091 = Buffer.concat([ascii('AMQP'), hex('00 00 09 01')]);

/** Connection.Start: frame type 1, channel 0, size, class 10 method 10, version 0.9, server-properties table. */
function connectionStart(): Buffer {
  const entry = (name: string, value: string): Buffer => {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(value.length);
    return Buffer.concat([Buffer.from([name.length]), ascii(name), ascii('S'), v, ascii(value)]);
  };
  const table = Buffer.concat([entry('product', 'RabbitMQ'), entry('version', '3.12.1')]);
  const tableLength = Buffer.alloc(4);
  tableLength.writeUInt32BE(table.length);
  const method = Buffer.concat([hex('000a 000a 00 09'), tableLength, table]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(method.length);
  return Buffer.concat([hex('01 0000'), size, method, hex('ce')]);
}

test('AMQP matches the 0-9-1 protocol header', () => {
  assert.equal(amqp.probe(header091, 'c2s', ctx()), 'match');
});

test('AMQP matches the 1.0 protocol header with the SASL layer id', () => {
  assert.equal(amqp.probe(Buffer.concat([ascii('AMQP'), hex('03 01 00 00')]), 'c2s', ctx()), 'match');
});

test('AMQP matches a Connection.Start method frame from the server', () => {
  assert.equal(amqp.probe(connectionStart(), 's2c', ctx()), 'match');
});

test('AMQP matches a mid-session method frame (Basic.Publish, class 60 method 40) ending in 0xCE', () => {
  const publish = hex('01 0001 00000015 003c 0028 0000 08 63656c657279657600 00 00 ce');
  publish.writeUInt32BE(publish.length - 8, 3);
  assert.equal(amqp.probe(publish, 'c2s', ctx()), 'match');
});

test('AMQP rejects a frame without the frame-end octet', () => {
  assert.equal(amqp.probe(hex('08 0000 00000000 00'), 'c2s', ctx()), 'no');
});

test('AMQP rejects a protocol header with an undefined version', () => {
  assert.equal(amqp.probe(Buffer.concat([ascii('AMQP'), hex('00 07 07 07')]), 'c2s', ctx()), 'no');
});

test('AMQP rejects an HTTP request', () => {
  assert.equal(amqp.probe(ascii('GET / HTTP/1.1\r\n'), 'c2s', ctx()), 'no');
});

test('AMQP needs more while the protocol header is cut', () => {
  assert.equal(amqp.probe(ascii('AMQP'), 'c2s', ctx()), 'need-more');
});

test('AMQP extracts the version from the client header', () => {
  assert.deepEqual(extracted(amqp, header091, 'c2s'), { amqpVersion: '0-9-1' });
});

test('AMQP extracts product and version from the server properties', () => {
  assert.deepEqual(extracted(amqp, connectionStart(), 's2c'), { amqpServerProduct: 'RabbitMQ', amqpServerVersion: '3.12.1' });
});
