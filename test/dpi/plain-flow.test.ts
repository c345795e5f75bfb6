// Flow JSON lines in Palisade's own compact form take a fast path: it must read exactly as JSON.parse does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePlainFlow } from '../../src/dpi/sources.js';

// Lines as JSON.stringify writes a Flow, with strings, numbers and optional fields that leave the
// fast form, and single-character damage anywhere.
const text = fc.string({ unit: fc.constantFrom('a', '1', '.', ':', ' ', '-', 'é', '\u2028', '\t', '"', '\\', '\u0001') });
const endpoint = fc.record({ ip: text, port: fc.oneof(fc.nat(70000), fc.double(), fc.integer()), workload: text }, { requiredKeys: ['ip', 'port'] });
const counters = fc.record({ packets: fc.oneof(fc.nat(), fc.maxSafeNat()), bytes: fc.nat(), payloadBytes: fc.nat() }, { requiredKeys: ['packets', 'bytes'] });
const flow = fc.record(
  {
    id: text,
    firstSeen: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    lastSeen: text,
    ipProto: fc.constantFrom('tcp', 'udp'),
    client: endpoint,
    server: endpoint,
    app: text,
    appConfidence: text,
    meta: fc.oneof(fc.constant({}), fc.dictionary(fc.string(), fc.jsonValue())),
    c2s: counters,
    s2c: counters,
    vlan: fc.nat(),
  },
  { requiredKeys: ['id', 'firstSeen', 'lastSeen', 'ipProto', 'client', 'server', 'app', 'appConfidence', 'meta', 'c2s', 's2c'] },
);

test('a line in the fast form reads as JSON.parse reads it, key order included; any other line is left to JSON.parse', () => {
  fc.assert(
    fc.property(flow, fc.nat(), fc.constantFrom('', ' ', '"', '\\', '{', '}', ',', '0', '-', '.', 'e', '\u0001'), fc.boolean(), (f, at, damage, damaged) => {
      let line = JSON.stringify(f);
      if (damaged) line = line.slice(0, at % (line.length + 1)) + damage + line.slice((at % (line.length + 1)) + 1);
      const fast = parsePlainFlow(line);
      if (fast === undefined) return;
      assert.equal(JSON.stringify(fast), JSON.stringify(JSON.parse(line)));
      assert.deepStrictEqual(fast, JSON.parse(line));
    }),
    { numRuns: 2000 },
  );
});

test('a flow as Palisade writes it takes the fast form', () => {
  const line = '{"id":"1","firstSeen":"2026-01-10T10:00:00.000Z","lastSeen":"2026-01-10T10:00:00.000Z","ipProto":"tcp","client":{"ip":"10.1.0.10","port":40001},"server":{"ip":"10.1.0.20","port":8080,"workload":"shop/api"},"app":"http","appConfidence":"dpi","meta":{"httpHost":"api"},"c2s":{"packets":5,"bytes":600,"payloadBytes":0},"s2c":{"packets":4,"bytes":1400}}';
  assert.deepStrictEqual(parsePlainFlow(line), JSON.parse(line));
});
