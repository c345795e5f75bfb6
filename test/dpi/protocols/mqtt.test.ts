import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mqtt } from '../../../src/dpi/protocols/mqtt.js';
import { ascii, ctx, extracted, hex } from '../helpers.js';

/** A UTF-8 string with a u16 length prefix. */
function str(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length >> 8, s.length & 0xff]), ascii(s)]);
}

/** A packet: fixed header byte, one-byte remaining length (all packets here are < 128 bytes), body. */
function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, body.length]), body]);
}

// CONNECT 3.1.1: protocol name "MQTT", level 4, flags clean session (0x02), keep-alive 60, client id.
const connect = packet(0x10, Buffer.concat([str('MQTT'), hex('04 02 003c'), str('sensor-7')]));
// SUBSCRIBE (0x82): packet id 1, topic filter + requested QoS.
const subscribe = packet(0x82, Buffer.concat([hex('0001'), str('plant/+/temp'), hex('01')]));
// PUBLISH QoS 0 (0x30): topic name, payload.
const publish = packet(0x30, Buffer.concat([str('plant/a/temp'), ascii('21.5')]));

test('MQTT matches a 3.1.1 CONNECT', () => {
  assert.equal(mqtt.probe(connect, 'c2s', ctx()), 'match');
});

test('MQTT matches a 3.1 CONNECT with protocol name MQIsdp', () => {
  const v31 = packet(0x10, Buffer.concat([str('MQIsdp'), hex('03 02 003c'), str('legacy')]));
  assert.equal(mqtt.probe(v31, 'c2s', ctx()), 'match');
});

test('MQTT matches a CONNACK that answers a CONNECT', () => {
  assert.equal(mqtt.probe(hex('20 02 00 00'), 's2c', ctx('tcp', connect)), 'match');
});

test('MQTT rejects a CONNECT whose reserved flag bit is set', () => {
  const bad = Buffer.from(connect);
  bad[9] = 0x03;
  assert.equal(mqtt.probe(bad, 'c2s', ctx()), 'no');
});

test('MQTT rejects an AMQP header', () => {
  assert.equal(mqtt.probe(Buffer.concat([ascii('AMQP'), hex('00000901')]), 'c2s', ctx()), 'no');
});

test('MQTT needs more while the protocol name is cut', () => {
  assert.equal(mqtt.probe(connect.subarray(0, 5), 'c2s', ctx()), 'need-more');
});

test('MQTT extracts the client id and the topics of SUBSCRIBE and PUBLISH', () => {
  assert.deepEqual(extracted(mqtt, Buffer.concat([connect, subscribe, publish]), 'c2s'), {
    mqttVersion: '3.1.1',
    mqttClientId: 'sensor-7',
    mqttTopics: ['plant/+/temp', 'plant/a/temp'],
  });
});

test('MQTT 5 skips the CONNECT properties to read the client id', () => {
  // level 5, properties length 5: session expiry interval (0x11) = 0x00000e10.
  const v5 = packet(0x10, Buffer.concat([str('MQTT'), hex('05 02 003c 05 11 00000e10'), str('v5-client')]));
  assert.deepEqual(extracted(mqtt, v5, 'c2s'), { mqttVersion: '5.0', mqttClientId: 'v5-client' });
});
