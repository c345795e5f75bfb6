import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Event } from '../../src/events/event.js';
import { WebhookSink, type WebhookOptions } from '../../src/events/webhook-sink.js';
import { violation } from './sample-events.js';

/** What the endpoint does with one request: answer with a status, or never answer. */
type Answer = number | 'hang' | { status: number; retryAfter: string };

interface Endpoint {
  url: string;
  /** Bodies of the requests, parsed, in arrival order (the unanswered ones too). */
  requests: unknown[];
  headers: IncomingMessage['headers'][];
}

/** A local endpoint that answers the n-th request with answers[n] and 200 after the script ends. */
async function endpoint(t: TestContext, answers: Answer[]): Promise<Endpoint> {
  const requests: unknown[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d.toString()));
    req.on('end', () => {
      const answer = answers[requests.length] ?? 200;
      requests.push(JSON.parse(body));
      headers.push(req.headers);
      if (answer === 'hang') hanging.push(res);
      else if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(answer.status, { 'retry-after': answer.retryAfter }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, requests, headers };
}

const fast = (url: string, over: Partial<WebhookOptions> = {}): WebhookSink =>
  new WebhookSink({ url, timeoutMs: 300, retry: { baseMs: 5, maxMs: 50 }, ...over });

test('an event is posted as one JSON object with the configured headers', async (t) => {
  const hook = await endpoint(t, []);
  const sink = fast(hook.url, { headers: { authorization: 'Bearer s3cret' } });
  const e = violation();
  sink.write(e);
  await sink.close();
  assert.deepEqual(hook.requests, [e]);
  assert.equal(hook.headers[0]?.['content-type'], 'application/json');
  assert.equal(hook.headers[0]?.authorization, 'Bearer s3cret');
});

test('failures, 5xx and a timeout are retried until the endpoint accepts', async (t) => {
  const hook = await endpoint(t, [503, 500, 'hang']);
  const sink = fast(hook.url, { maxAttempts: 5 });
  const e = violation();
  sink.write(e);
  await sink.close();
  assert.equal(hook.requests.length, 4);
  assert.deepEqual(hook.requests[3], e);
  assert.deepEqual(sink.stats, { delivered: 1, dropped: 0, failed: 0, retries: 3, rejected: 0 });
});

test('a 4xx answer is final and not retried', async (t) => {
  const hook = await endpoint(t, [400]);
  const sink = fast(hook.url);
  sink.write(violation());
  await sink.close();
  assert.equal(hook.requests.length, 1);
  assert.deepEqual(sink.stats, { delivered: 0, dropped: 0, failed: 1, retries: 0, rejected: 1 });
});

test('429 Too Many Requests is retried', async (t) => {
  const hook = await endpoint(t, [{ status: 429, retryAfter: '0' }]);
  const sink = fast(hook.url);
  sink.write(violation());
  await sink.close();
  assert.equal(hook.requests.length, 2);
  assert.equal(sink.stats.delivered, 1);
});

test('a batch that keeps failing is given up after maxAttempts', async (t) => {
  const hook = await endpoint(t, [500, 500, 500, 500]);
  const sink = fast(hook.url, { maxAttempts: 3 });
  sink.write(violation());
  await sink.close();
  assert.equal(hook.requests.length, 3);
  assert.deepEqual(sink.stats, { delivered: 0, dropped: 0, failed: 1, retries: 2, rejected: 0 });
});

test('with batchSize, events written together go out as JSON arrays of at most that size', async (t) => {
  const hook = await endpoint(t, []);
  const sink = fast(hook.url, { batchSize: 3 });
  const events = Array.from({ length: 7 }, (_, i) => violation({ id: `e${i}` }));
  for (const e of events) sink.write(e);
  await sink.close();
  assert.deepEqual(
    hook.requests.map((r) => (r as Event[]).map((e) => e.id)),
    [['e0', 'e1', 'e2'], ['e3', 'e4', 'e5'], ['e6']],
  );
});

test('a full queue drops the oldest events and counts them', async (t) => {
  const hook = await endpoint(t, ['hang']);
  const sink = fast(hook.url, { maxQueue: 5 });
  sink.write(violation({ id: 'e0' }));
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 1; i < 20; i++) sink.write(violation({ id: `e${i}` }));
  await sink.close();
  assert.deepEqual(
    hook.requests.map((r) => (r as Event).id),
    ['e0', 'e0', 'e15', 'e16', 'e17', 'e18', 'e19'],
  );
  assert.equal(sink.stats.dropped, 14);
  assert.equal(sink.stats.delivered, 6);
});

test('close gives up on an endpoint that never answers once its time is up', async (t) => {
  const hook = await endpoint(t, ['hang', 'hang', 'hang']);
  const sink = fast(hook.url, { timeoutMs: 60_000, closeTimeoutMs: 100 });
  sink.write(violation());
  sink.write(violation());
  await sink.close();
  assert.equal(sink.stats.failed, 2);
  assert.equal(sink.stats.delivered, 0);
});
