import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsConfigError, openEvents, openSinks, parseEventsConfig, readEventsConfig } from '../../src/events/config.js';
import { JsonLinesSink } from '../../src/events/jsonl-sink.js';
import { SyslogSink } from '../../src/events/syslog-sink.js';
import { WebhookSink } from '../../src/events/webhook-sink.js';
import { violation } from './sample-events.js';

function errorsOf(value: unknown): string[] {
  try {
    parseEventsConfig(value);
  } catch (error) {
    assert.ok(error instanceof EventsConfigError);
    return error.errors;
  }
  assert.fail('expected the configuration to be refused');
}

const YAML = `
window: 5s
rateLimit: { perSecond: 2.5, burst: 10 }
maxKeys: 500
sinks:
  - type: jsonl
    path: /var/log/palisade/events.jsonl
    maxBytes: 1048576
  - { type: syslog, host: 127.0.0.1, port: 5514, transport: tcp, facility: local3 }
  - type: webhook
    url: https://soar.example/hook
    batchSize: 10
    timeout: 1500ms
    headers: { authorization: Bearer abc }
`;

test('a YAML events section becomes aggregation limits and typed sinks', () => {
  const config = readEventsConfig(YAML, 'agent.yaml');
  assert.deepEqual(config.aggregate, { windowMs: 5000, rate: 2.5, burst: 10, maxKeys: 500, maxPorts: 64 });
  assert.deepEqual(config.sinks, [
    { type: 'jsonl', path: '/var/log/palisade/events.jsonl', maxBytes: 1048576 },
    { type: 'syslog', host: '127.0.0.1', port: 5514, transport: 'tcp', facility: 'local3' },
    { type: 'webhook', url: 'https://soar.example/hook', batchSize: 10, timeoutMs: 1500, headers: { authorization: 'Bearer abc' } },
  ]);
});

test('JSON is read as well as YAML', () => {
  const config = readEventsConfig('{"sinks": [{"type": "syslog", "host": "::1", "port": 514}]}', 'events.json');
  assert.deepEqual(config.sinks, [{ type: 'syslog', host: '::1', port: 514, transport: 'udp' }]);
});

test('an empty section means defaults and no sinks', () => {
  assert.deepEqual(parseEventsConfig(undefined).sinks, []);
});

test('every error is reported at once, each naming its field', () => {
  const errors = errorsOf({
    window: 'soon',
    sinks: [
      { type: 'syslog', host: 'collector', port: 'abc', transport: 'sctp' },
      { type: 'webhook', url: 'ftp://x' },
      { type: 'jsonl' },
    ],
  });
  assert.deepEqual(errors, [
    'events.window: expected a duration from 0ms to 86400000ms (a number of ms, or like 500ms, 10s, 2m), got "soon"',
    'events.sinks[0].port: expected an integer from 1 to 65535, got "abc"',
    'events.sinks[0].transport: expected one of udp, tcp, got "sctp"',
    'events.sinks[1].url: expected an http:// or https:// URL, got "ftp://x"',
    'events.sinks[2].path: required',
  ]);
});

test('a misspelt field or sink type gets a suggestion', () => {
  assert.deepEqual(errorsOf({ sinks: [{ type: 'jsnl', path: 'x' }, { type: 'jsonl', pth: 'x', path: 'y' }] }), [
    'events.sinks[0].type: unknown sink type "jsnl", one of jsonl, syslog, webhook (did you mean "jsonl"?)',
    'events.sinks[1].pth: unknown field (did you mean "path"?)',
  ]);
});

test('a sink without a type is refused', () => {
  assert.deepEqual(errorsOf({ sinks: [{ path: 'x' }] }), ['events.sinks[0].type: required, one of jsonl, syslog, webhook']);
});

test('a YAML syntax error names the source', () => {
  assert.throws(() => readEventsConfig('sinks: [', 'agent.yaml'), (e: unknown) => e instanceof EventsConfigError && /^agent\.yaml: /.test(e.message));
});

test('openSinks opens one sink of the configured kind per entry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-events-'));
  const sinks = openSinks([
    { type: 'jsonl', path: join(dir, 'e.jsonl') },
    { type: 'syslog', host: '127.0.0.1', port: 9, transport: 'udp' },
    { type: 'webhook', url: 'http://127.0.0.1:9/' },
  ]);
  assert.deepEqual(
    sinks.map((s) => s.constructor),
    [JsonLinesSink, SyslogSink, WebhookSink],
  );
  await Promise.all(sinks.map((s) => s.close()));
});

test('openEvents wires the configured pipeline to its sinks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-events-'));
  const path = join(dir, 'e.jsonl');
  const events = openEvents(parseEventsConfig({ sinks: [{ type: 'jsonl', path }] }), { tickMs: 0 });
  for (let i = 0; i < 100; i++) events.push(violation());
  await events.close();
  const counts = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { count: number }).count);
  assert.deepEqual(counts, [1, 99]);
});
