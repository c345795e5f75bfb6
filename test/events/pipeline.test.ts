import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event } from '../../src/events/event.js';
import { EventPipeline } from '../../src/events/pipeline.js';
import type { EventSink } from '../../src/events/sink.js';
import { violation } from './sample-events.js';

function memorySink(): EventSink & { events: Event[]; closed: boolean } {
  const sink = {
    events: [] as Event[],
    closed: false,
    write(e: Event) {
      sink.events.push(e);
    },
    async close() {
      sink.closed = true;
    },
  };
  return sink;
}

test('every sink receives the aggregated events and is closed with the pipeline', async () => {
  const a = memorySink();
  const b = memorySink();
  const events = new EventPipeline({ tickMs: 0 }, [a, b]);
  for (let i = 0; i < 10; i++) events.push(violation());
  await events.close();
  assert.deepEqual(a.events.map((e) => e.count), [1, 9]);
  assert.deepEqual(b.events, a.events);
  assert.ok(a.closed && b.closed);
});

test('a failing sink is counted and does not stop the others', async () => {
  const good = memorySink();
  const errors: unknown[] = [];
  const throwing: EventSink = {
    write() {
      throw new Error('disk full');
    },
    close: async () => undefined,
  };
  const rejecting: EventSink = {
    write: () => Promise.reject(new Error('refused')),
    close: async () => undefined,
  };
  const events = new EventPipeline({ tickMs: 0, onError: (e) => errors.push(e) }, [throwing, rejecting, good]);
  events.push(violation());
  await events.close();
  assert.equal(good.events.length, 1);
  assert.equal(events.stats.sinkErrors, 2);
  assert.deepEqual(errors.map((e) => (e as Error).message).sort(), ['disk full', 'refused']);
});

test('close waits for writes still in flight', async () => {
  let finished = false;
  const slow: EventSink = {
    write: () => new Promise<void>((resolve) => setImmediate(() => ((finished = true), resolve()))),
    close: async () => assert.ok(finished, 'closed before the write finished'),
  };
  const events = new EventPipeline({ tickMs: 0 }, [slow]);
  events.push(violation());
  await events.close();
  assert.ok(finished);
  assert.equal(events.stats.sinkErrors, 0);
});

test('events pushed after close are ignored', async () => {
  const sink = memorySink();
  const events = new EventPipeline({ tickMs: 0 }, [sink]);
  await events.close();
  events.push(violation());
  assert.equal(sink.events.length, 0);
});

test('the timer emits aggregates that fall due without further pushes', async () => {
  const sink = memorySink();
  const clock = { now: 0 };
  const events = new EventPipeline({ tickMs: 5, windowMs: 1000, clock: () => clock.now }, [sink]);
  events.push(violation());
  events.push(violation());
  clock.now = 1000;
  const deadline = Date.now() + 5000;
  while (sink.events.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sink.events.map((e) => e.count), [1, 1]);
  await events.close();
});
