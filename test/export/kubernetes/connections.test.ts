import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  allConnections,
  formatConnections,
  intersect,
  isAll,
  isEmpty,
  noConnections,
  portRange,
  PROTOCOLS,
  union,
  type ConnectionSet,
  type Protocol,
} from '../../../src/export/kubernetes/connections.js';

const set = (...parts: [Protocol, number, number][]): ConnectionSet =>
  parts.reduce((acc, [p, a, b]) => union(acc, portRange(p, a, b)), noConnections());

test('adjacent and overlapping port ranges merge into one range', () => {
  assert.equal(formatConnections(set(['TCP', 8080, 8080], ['TCP', 8081, 8081], ['TCP', 8070, 8079])), 'TCP 8070-8081');
});

test('protocols print in the order SCTP, TCP, UDP, separated by commas without spaces', () => {
  assert.equal(formatConnections(set(['UDP', 9090, 9090], ['SCTP', 7070, 7070], ['TCP', 8080, 8081])), 'SCTP 7070,TCP 8080-8081,UDP 9090');
});

test('every port of every protocol prints as All Connections', () => {
  assert.equal(formatConnections(allConnections()), 'All Connections');
  assert.equal(formatConnections(set(['TCP', 1, 65535], ['UDP', 1, 65535], ['SCTP', 1, 40000], ['SCTP', 40001, 65535])), 'All Connections');
});

test('one protocol on every port prints as that protocol with 1-65535', () => {
  assert.equal(formatConnections(set(['TCP', 1, 65535])), 'TCP 1-65535');
});

test('intersection keeps only the ports both sets allow, per protocol', () => {
  const a = set(['TCP', 1, 100], ['UDP', 53, 53]);
  const b = set(['TCP', 50, 200], ['SCTP', 1, 65535]);
  assert.equal(formatConnections(intersect(a, b)), 'TCP 50-100');
  assert.ok(isEmpty(intersect(set(['UDP', 53, 53]), set(['TCP', 53, 53]))));
});

test('a range is clamped to ports 1-65535', () => {
  assert.equal(formatConnections(portRange('TCP', 0, 70000)), 'TCP 1-65535');
  assert.ok(isEmpty(portRange('TCP', 70000, 80000)));
});

// Reference model: the set of (protocol, port) pairs, over a small port domain at both ends.
const DOMAIN = [...Array.from({ length: 40 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => 65526 + i)];
const rangeArb = fc.tuple(fc.constantFrom(...PROTOCOLS), fc.constantFrom(...DOMAIN), fc.constantFrom(...DOMAIN)).map(
  ([p, a, b]) => [p, Math.min(a, b), Math.max(a, b)] as [Protocol, number, number],
);
const members = (s: ConnectionSet): Set<string> => {
  const out = new Set<string>();
  for (const p of PROTOCOLS) for (const port of DOMAIN) if (s[p].some((iv) => iv.first <= port && port <= iv.last)) out.add(`${p}/${port}`);
  return out;
};
const reference = (parts: [Protocol, number, number][]): Set<string> => {
  const out = new Set<string>();
  for (const [p, a, b] of parts) for (const port of DOMAIN) if (a <= port && port <= b) out.add(`${p}/${port}`);
  return out;
};

test('union and intersection agree with a set of (protocol, port) pairs', () => {
  fc.assert(
    fc.property(fc.array(rangeArb, { maxLength: 6 }), fc.array(rangeArb, { maxLength: 6 }), (xs, ys) => {
      const a = set(...xs);
      const b = set(...ys);
      const ra = reference(xs);
      const rb = reference(ys);
      assert.deepEqual(members(union(a, b)), new Set([...ra, ...rb]));
      assert.deepEqual(members(intersect(a, b)), new Set([...ra].filter((x) => rb.has(x))));
    }),
  );
});

test('a set has one spelling: intervals stay sorted, disjoint and non-adjacent', () => {
  fc.assert(
    fc.property(fc.array(rangeArb, { maxLength: 8 }), (xs) => {
      const s = set(...xs);
      for (const p of PROTOCOLS) {
        const ivs = s[p];
        for (let i = 1; i < ivs.length; i++) assert.ok((ivs[i - 1]?.last as number) + 1 < (ivs[i]?.first as number));
      }
    }),
  );
});

test('isAll holds only for every port of all three protocols', () => {
  assert.ok(isAll(allConnections()));
  assert.ok(!isAll(set(['TCP', 1, 65535], ['UDP', 1, 65535])));
});
