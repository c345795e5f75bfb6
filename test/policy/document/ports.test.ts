import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePort } from '../../../src/policy/document/ports.js';

function range(text: string): unknown {
  const r = parsePort(text);
  assert.ok(r.ok, `expected ${text} to parse`);
  return r.range;
}

test('port entries parse into the model port ranges', () => {
  assert.deepEqual(range('any'), { proto: 'any' });
  assert.deepEqual(range('tcp/80'), { proto: 'tcp', first: 80, last: 80 });
  assert.deepEqual(range('tcp/8000-8080'), { proto: 'tcp', first: 8000, last: 8080 });
  assert.deepEqual(range('udp/53'), { proto: 'udp', first: 53, last: 53 });
  assert.deepEqual(range('sctp/3868'), { proto: 'sctp', first: 3868, last: 3868 });
  assert.deepEqual(range('tcp/any'), { proto: 'tcp' });
  assert.deepEqual(range('icmp'), { proto: 'icmp' });
  assert.deepEqual(range('icmp/8'), { proto: 'icmp', first: 8, last: 8 });
  assert.deepEqual(range('icmpv6/128'), { proto: 'icmpv6', first: 128, last: 128 });
});

test('protocol names are case-insensitive', () => {
  assert.deepEqual(range('TCP/443'), { proto: 'tcp', first: 443, last: 443 });
});

test('a port without protocol is refused with a hint', () => {
  const r = parsePort('80');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.hint === 'write tcp/80 or udp/80');
});

test('out-of-range, backwards and malformed ports are refused', () => {
  for (const bad of ['tcp/0', 'tcp/65536', 'udp/90-80', 'icmp/256', 'tcp/http', 'tpc/80', 'tcp/1-2-3', 'tcp/']) {
    assert.equal(parsePort(bad).ok, false, bad);
  }
});

test('every valid tcp range parses back to its bounds', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (a, b) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      assert.deepEqual(parsePort(`tcp/${first}-${last}`), { ok: true, range: { proto: 'tcp', first, last } });
    }),
  );
});
