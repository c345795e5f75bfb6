import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLinesSink } from '../../src/events/jsonl-sink.js';
import type { Event } from '../../src/events/event.js';
import { violation } from './sample-events.js';

const lines = (path: string): Event[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Event);

const tempFile = (): string => join(mkdtempSync(join(tmpdir(), 'pal-events-')), 'sub', 'events.jsonl');

test('each event becomes one JSON line that parses back to the event', async () => {
  const path = tempFile();
  const sink = new JsonLinesSink({ path });
  const events = [violation(), violation({ kind: 'dlp', action: 'alert', reason: 'card number → über-extern', finding: { name: 'credit-card', severity: 'critical', detail: '4111…1111' } })];
  for (const e of events) sink.write(e);
  await sink.close();
  assert.deepEqual(lines(path), events);
});

test('a sink appends to the lines already in the file', async () => {
  const path = tempFile();
  const first = new JsonLinesSink({ path });
  first.write(violation({ reason: 'one' }));
  await first.close();
  const second = new JsonLinesSink({ path });
  second.write(violation({ reason: 'two' }));
  await second.close();
  assert.deepEqual(lines(path).map((e) => e.reason), ['one', 'two']);
});

test('a file that would pass maxBytes is rotated and keeps only whole lines', async () => {
  const path = tempFile();
  const one = Buffer.byteLength(`${JSON.stringify(violation())}\n`);
  const sink = new JsonLinesSink({ path, maxBytes: one * 3 + 10, keep: 2 });
  for (let i = 0; i < 10; i++) sink.write(violation({ id: `e${i}` }));
  await sink.close();
  assert.deepEqual(lines(`${path}.2`).map((e) => e.id), ['e3', 'e4', 'e5']);
  assert.deepEqual(lines(`${path}.1`).map((e) => e.id), ['e6', 'e7', 'e8']);
  assert.deepEqual(lines(path).map((e) => e.id), ['e9']);
  assert.equal(existsSync(`${path}.3`), false);
  assert.ok(statSync(`${path}.1`).size <= one * 3 + 10);
});

test('rotation drops the oldest file beyond keep', async () => {
  const path = tempFile();
  const sink = new JsonLinesSink({ path, maxBytes: 1, keep: 1 });
  for (let i = 0; i < 3; i++) sink.write(violation({ id: `e${i}` }));
  await sink.close();
  assert.deepEqual(lines(`${path}.1`).map((e) => e.id), ['e1']);
  assert.deepEqual(lines(path).map((e) => e.id), ['e2']);
});

test('writing to a closed sink throws', async () => {
  const path = tempFile();
  const sink = new JsonLinesSink({ path });
  await sink.close();
  assert.throws(() => sink.write(violation()), /closed/);
});

test('rotation takes the existing file size into account', async () => {
  const path = tempFile();
  await new JsonLinesSink({ path }).close();
  writeFileSync(path, 'x'.repeat(100) + '\n');
  const sink = new JsonLinesSink({ path, maxBytes: 150, keep: 1 });
  sink.write(violation());
  await sink.close();
  assert.equal(readFileSync(`${path}.1`, 'utf8'), 'x'.repeat(100) + '\n');
});
