import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { DnsNames } from '../../src/dpi/dns-names.js';
import { detectKind, LineSplitter, parseTime, readFlowSource, SourceError, type SourceProblem } from '../../src/dpi/sources.js';
import type { Flow } from '../../src/model/flow.js';

async function read(input: string | Readable): Promise<{ flows: Flow[]; problems: SourceProblem[]; kind: string; skipped: number; dns: DnsNames }> {
  const flows: Flow[] = [];
  const problems: SourceProblem[] = [];
  const dns = new DnsNames();
  const stats = await readFlowSource(input, (f) => flows.push(f), { dns, onProblem: (p) => problems.push(p) });
  return { flows, problems, kind: stats.kind, skipped: stats.skipped, dns };
}

test('the input kind is told from the first bytes: pcap, pcapng, Hubble JSON or Flow JSON lines', () => {
  assert.equal(detectKind(Buffer.from('d4c3b2a102000400', 'hex')), 'pcap');
  assert.equal(detectKind(Buffer.from('0a0d0d0a1c000000', 'hex')), 'pcapng');
  assert.equal(detectKind(Buffer.from('{"flow":{"time":"x"}}\n')), 'hubble');
  assert.equal(detectKind(Buffer.from('{"id":"1","client":{"ip":"10.0.0.1"}}\n')), 'flows');
  assert.equal(detectKind(Buffer.from('\n\n')), 'empty');
  assert.equal(detectKind(Buffer.from('GET / HTTP/1.1\r\n')), 'unknown');
});

test('Flow JSON lines are read in order with DNS answers learned for naming', async () => {
  const { flows, kind, skipped, dns } = await read('test/fixtures/learn/flows.jsonl');
  assert.equal(kind, 'flows');
  assert.equal(skipped, 0);
  assert.deepEqual(flows.map((f) => f.id), ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.deepEqual(dns.namesOf('198.51.100.7'), ['pay.example.com']);
});

test('a malformed line is reported with file and line number, skipped, and counted', async () => {
  const { flows, problems, skipped } = await read('test/fixtures/learn/damaged.jsonl');
  assert.equal(flows.length, 2);
  assert.equal(skipped, 2);
  assert.deepEqual(problems, [
    { file: 'test/fixtures/learn/damaged.jsonl', line: 2, message: 'not valid JSON' },
    { file: 'test/fixtures/learn/damaged.jsonl', line: 3, message: 'client.ip must be an IP address' },
  ]);
});

test('Hubble exports are read with bad lines skipped and counted', async () => {
  const { flows, kind, skipped, problems } = await read('test/fixtures/learn/hubble.jsonl');
  assert.equal(kind, 'hubble');
  assert.equal(flows.length, 4);
  assert.equal(skipped, 2);
  assert.deepEqual(problems.map((p) => p.line), [5, 6]);
});

test('a missing input is an error that names the file', async () => {
  await assert.rejects(read('test/fixtures/learn/no-such-file.jsonl'), (e: unknown) => e instanceof SourceError && e.file === 'test/fixtures/learn/no-such-file.jsonl');
});

test('an input of no known kind is an error that says which kinds are read', async () => {
  await assert.rejects(read('test/fixtures/learn/inventory.yaml'), (e: unknown) => e instanceof SourceError && /not a pcap or pcapng capture, Flow JSON lines or a Hubble JSON export/.test(e.message));
});

test('a line longer than the cap is skipped without being kept in memory', () => {
  const text = `${'x'.repeat(5000)}\n{"a":1}\n`;
  const out: [number, string | undefined][] = [];
  const split = new LineSplitter(1000, (n, t) => out.push([n, t]));
  split.push(Buffer.from(text.slice(0, 3000)));
  split.push(Buffer.from(text.slice(3000)));
  split.end();
  assert.deepEqual(out, [[1, undefined], [2, '{"a":1}']]);
});

test('lines split across chunks are joined, and a last line without a newline is read', () => {
  const out: (string | undefined)[] = [];
  const split = new LineSplitter(100, (_, t) => out.push(t));
  for (const part of ['ab', 'c\nde', 'f']) split.push(Buffer.from(part));
  split.end();
  assert.deepEqual(out, ['abc', 'def']);
});

test('captures in the fixtures are read through the packet pipeline into flows', { skip: !existsSync('test/fixtures/pcap') }, async () => {
  const captures = readdirSync('test/fixtures/pcap').filter((n) => /\.pcap(ng)?$/.test(n));
  for (const name of captures.slice(0, 3)) {
    const { flows, kind } = await read(`test/fixtures/pcap/${name}`);
    assert.ok(kind === 'pcap' || kind === 'pcapng');
    assert.ok(flows.length > 0, name);
  }
});

test('times in the form Palisade writes are read as Date.parse reads them, and other forms fall back to it', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
      assert.equal(parseTime(d.toISOString()), d.getTime());
    }),
  );
  for (const odd of ['2026-02-30T10:00:00.000Z', '2026-13-01T10:00:00.000Z', '2026-01-10T25:00:00.000Z', 'yesterday']) {
    assert.deepEqual(parseTime(odd), Date.parse(odd), odd);
  }
  assert.equal(parseTime('2026-01-10T10:00:00Z'), Date.parse('2026-01-10T10:00:00Z'));
  assert.equal(parseTime('2026-01-10T11:00:00.000+01:00'), Date.parse('2026-01-10T10:00:00Z'));
});
