import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNflog, parsePrefix, RepeatFilter, violationOf, type Violation } from '../../src/enforce/violations.js';
import { AddressIndex } from '../../src/inventory/attribute.js';
import { inventory, workload } from '../policy/engine/fixtures.js';

// One NFLOG record as tcpdump wrote it (`tcpdump -i nflog -w`) in a pal- node namespace, while the
// rule `ip daddr @protect_v4 ... log prefix "pal:default:drop" group 0` dropped a curl SYN from
// 10.200.8.10 to 10.200.8.30:5432 on a lab bridge: header, then attributes (packet header, prefix,
// interfaces, hardware header, timestamp, payload) in little-endian length/type form.
const RECORD = Buffer.from(
  '02000000080001000800020015000a0070616c3a64656661756c743a64726f700000000008000400000000020800060000000003080005000000000208000700000000041000080000060000b6f27b050eec000006000f000001000006001100000e0000120010004215722454f8b6f27b050eec0800000014000300000000006b05ec64000000000004572d400009004500003cd0514000400644b30ac8080a0ac8081ec6ec1538b02610c600000000a002faf025e60000020405b40402080af6f15972000000000103030a',
  'hex',
);
const AT = Date.parse('2026-06-01T00:00:00Z');

test('an NFLOG record yields its family, prefix and the IP packet it logged', () => {
  const m = parseNflog(RECORD);
  assert.ok(m);
  assert.equal(m.family, 2);
  assert.equal(m.prefix, 'pal:default:drop');
  assert.equal(m.payload.length, 60);
  assert.equal(m.payload[0], 0x45);
});

test('an NFLOG record whose attribute runs past its end is refused', () => {
  assert.equal(parseNflog(RECORD.subarray(0, 30)), undefined);
});

test('an NFLOG record without a payload is no message', () => {
  const headerAndPrefix = RECORD.subarray(0, 4 + 8 + 24);
  assert.equal(parseNflog(headerAndPrefix), undefined);
});

test('a log prefix splits into the tag and the action, and only Palisade prefixes count', () => {
  assert.deepEqual(parsePrefix('pal:web-to-api:alert'), { tag: 'web-to-api', action: 'alert' });
  assert.deepEqual(parsePrefix('pal:a:b:drop'), { tag: 'a:b', action: 'drop' });
  assert.equal(parsePrefix('other:x:drop'), undefined);
  assert.equal(parsePrefix('pal:x:accept'), undefined);
  assert.equal(parsePrefix('pal::drop'), undefined);
});

test('a logged packet becomes a violation with endpoints, protocol, rule and the workloads holding the addresses', () => {
  const index = new AddressIndex(inventory([workload('web', '10.200.8.10'), workload('db', '10.200.8.30')]));
  const message = parseNflog(RECORD) as NonNullable<ReturnType<typeof parseNflog>>;
  const { sample, ...v } = violationOf(message, AT, new Map([['default', 'default']]), index) as Violation;
  // The logged packet is the sample: raw IP, as the kernel handed it over.
  assert.deepEqual(sample, { linkType: 101, frames: [{ tsUs: AT * 1000, origLen: message.payload.length, data: message.payload.toString('base64') }] });
  assert.deepEqual(v, {
    time: '2026-06-01T00:00:00.000Z',
    protocol: 'tcp',
    client: { ip: '10.200.8.10', port: 50924, workload: 'shop/web' },
    server: { ip: '10.200.8.30', port: 5432, workload: 'shop/db' },
    ruleId: 'default',
    action: 'drop',
  });
});

test('a log tag is reported as the rule id the ruleset maps it to', () => {
  const m = { ...(parseNflog(RECORD) as NonNullable<ReturnType<typeof parseNflog>>), prefix: 'pal:r7:alert' };
  assert.equal(violationOf(m, AT, new Map([['r7', 'x"y']]))?.ruleId, 'x"y');
});

test('a message with another prefix is not a violation', () => {
  const m = { ...(parseNflog(RECORD) as NonNullable<ReturnType<typeof parseNflog>>), prefix: 'ulogd:' };
  assert.equal(violationOf(m, AT, new Map()), undefined);
});

const attempt: Violation = {
  time: '',
  protocol: 'tcp',
  client: { ip: '10.0.0.1', port: 40000 },
  server: { ip: '10.0.0.2', port: 80 },
  ruleId: 'default',
  action: 'drop',
};

test('retries of one blocked attempt within ten seconds are reported once', () => {
  const f = new RepeatFilter();
  assert.equal(f.admit(attempt, AT), true);
  assert.equal(f.admit(attempt, AT + 3000), false);
  assert.equal(f.admit(attempt, AT + 13_001), true);
});

test('attempts from another client port are distinct', () => {
  const f = new RepeatFilter();
  assert.equal(f.admit(attempt, AT), true);
  assert.equal(f.admit({ ...attempt, client: { ip: '10.0.0.1', port: 40001 } }, AT), true);
});
