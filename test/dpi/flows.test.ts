// Captures to Flow records: the glue between sessions and identification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FlowBuilder, inspectCapture, minuteText } from '../../src/dpi/flows.js';
import fc from 'fast-check';
import type { Flow } from '../../src/model/flow.js';
import type { Session } from '../../src/packet/index.js';
import { repoRoot } from '../support/corpus.js';

const fixture = (name: string): string => join(repoRoot, 'test/fixtures/pcap', name);

test('a capture of a real HTTP exchange becomes one flow with HTTP identified and its metadata', async () => {
  const flows: Flow[] = [];
  for await (const f of inspectCapture(fixture('http.pcap'))) flows.push(f);
  assert.equal(flows.length, 1);
  const [f] = flows as [Flow];
  assert.equal(f.app, 'HTTP');
  assert.equal(f.appConfidence, 'dpi');
  assert.equal(f.meta.httpMethod, 'GET');
  assert.ok(f.c2s.packets > 0 && f.s2c.packets > 0);
  assert.ok(Date.parse(f.firstSeen) <= Date.parse(f.lastSeen));
});

test('DNS answers seen in a capture name their addresses for fqdn groups', async () => {
  const builder = new FlowBuilder(() => undefined);
  const { runPipeline } = await import('../../src/packet/index.js');
  await runPipeline(fixture('dns-udp.pcap'), builder);
  assert.ok(builder.dns.size > 0, 'no address named by the DNS answers');
});

test('a session with a time beyond what a Date can hold still becomes a flow', () => {
  const flows: Flow[] = [];
  const builder = new FlowBuilder((f) => flows.push(f));
  const session = {
    id: 1,
    ipProto: 'udp',
    client: { ip: '10.200.0.1', port: 1234 },
    server: { ip: '10.200.0.2', port: 53 },
    roleEvidence: 'port',
    firstTs: 1e22,
    lastTs: 1e22,
    c2s: { packets: 1, bytes: 60, payloadBytes: 32 },
    s2c: { packets: 0, bytes: 0, payloadBytes: 0 },
    icmpErrors: 0,
    user: undefined,
  } satisfies Session;
  builder.onEnd(session);
  assert.equal(flows.length, 1);
  assert.equal(flows[0]?.firstSeen, '+275760-09-13T00:00:00.000Z');
});

test('flow times are written as Date#toISOString writes them, across the whole range of a Date', () => {
  const minutes = 8.64e15 / 60_000;
  fc.assert(
    fc.property(fc.integer({ min: -minutes, max: minutes }), (minute) => {
      assert.equal(minuteText(minute), new Date(minute * 60_000).toISOString().slice(0, -7));
    }),
    { numRuns: 20_000, examples: [[0], [-1], [-62_167_219_200_000 / 60_000], [-62_167_219_200_000 / 60_000 - 1], [253_402_300_800_000 / 60_000], [253_402_300_800_000 / 60_000 - 1], [951_782_400_000 / 60_000]] },
  );
});
