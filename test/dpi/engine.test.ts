import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identifier } from '../../src/dpi/engine.js';
import type { ProbeResult, ProtocolModule, Transport } from '../../src/dpi/types.js';
import { ascii } from './helpers.js';

/** A module whose probe answers from a table keyed by the payload's text, recording each call. */
function fake(name: string, answers: Record<string, ProbeResult>, extra: Partial<ProtocolModule> = {}): ProtocolModule & { calls: string[] } {
  const calls: string[] = [];
  return {
    name,
    transports: ['tcp', 'udp'] as Transport[],
    calls,
    probe(data) {
      const text = data.toString('latin1');
      calls.push(text);
      return answers[text] ?? 'no';
    },
    ...extra,
  };
}

test('a protocol that answers no is not probed again in that session', () => {
  const a = fake('A', { x: 'no' });
  const b = fake('B', { x: 'need-more', xy: 'need-more' });
  const id = new Identifier('udp', 40000, 9999, [a, b]);
  id.feed('c2s', ascii('x'));
  id.feed('c2s', ascii('xy'));
  assert.deepEqual(a.calls, ['x']);
  assert.deepEqual(b.calls, ['x', 'xy']);
});

test('the first match identifies the session by DPI', () => {
  const id = new Identifier('udp', 40000, 9999, [fake('A', { hello: 'match' })]);
  id.feed('c2s', ascii('hello'));
  assert.equal(id.result().app, 'A');
  assert.equal(id.result().confidence, 'dpi');
});

test('registry order breaks a tie between simultaneous matches', () => {
  const id = new Identifier('udp', 40000, 9999, [fake('A', { m: 'match' }), fake('B', { m: 'match' })]);
  id.feed('c2s', ascii('m'));
  assert.equal(id.result().app, 'A');
});

test('a protocol on its own well-known port wins a tie against an earlier one', () => {
  const id = new Identifier('udp', 40000, 53, [fake('A', { m: 'match' }), fake('B', { m: 'match' }, { ports: [53] })]);
  id.feed('c2s', ascii('m'));
  assert.equal(id.result().app, 'B');
});

test('past a match only candidates on their own port are probed, and one matching on its port ends the search', () => {
  const a = fake('A', { m: 'match' });
  const b = fake('B', { m: 'match' });
  const c = fake('C', { m: 'need-more' }, { ports: [53] });
  const d = fake('D', { m: 'match' }, { ports: [53] });
  const e = fake('E', { m: 'match' }, { ports: [53] });
  const id = new Identifier('udp', 40000, 53, [a, b, c, d, e]);
  id.feed('c2s', ascii('m'));
  assert.equal(id.result().app, 'D');
  assert.deepEqual([a, b, c, d, e].map((p) => p.calls.length), [1, 0, 1, 1, 0]);
});

test('a match on its own port is not probed past', () => {
  const a = fake('A', { m: 'match' }, { ports: [53] });
  const b = fake('B', { m: 'match' }, { ports: [53] });
  const id = new Identifier('udp', 40000, 53, [a, b]);
  id.feed('c2s', ascii('m'));
  assert.equal(id.result().app, 'A');
  assert.deepEqual(b.calls, []);
});

test('a session whose candidates all said no is done and unknown', () => {
  const id = new Identifier('tcp', 40000, 80, [fake('A', {}, { ports: [80] })]);
  id.feed('c2s', ascii('zzz'));
  assert.deepEqual([id.result().app, id.result().confidence, id.result().done], ['unknown', 'none', true]);
});

test('a port guess is reported with confidence port, never dpi', () => {
  const id = new Identifier('tcp', 40000, 80, [fake('A', { q: 'need-more' }, { ports: [80] })]);
  id.feed('c2s', ascii('q'));
  assert.equal(id.result().app, 'A');
  assert.equal(id.result().confidence, 'port');
});

test('a session without payload claims no protocol, not even by port', () => {
  const id = new Identifier('tcp', 40000, 80, [fake('A', {}, { ports: [80] })]);
  assert.deepEqual([id.result().app, id.result().confidence], ['unknown', 'none']);
});

test('empty payloads do not count as payload seen', () => {
  const id = new Identifier('udp', 40000, 80, [fake('A', {}, { ports: [80] })]);
  id.feed('c2s', Buffer.alloc(0));
  assert.equal(id.result().confidence, 'none');
});

test('a TCP probe sees the accumulated prefix of the direction', () => {
  const a = fake('A', { GE: 'need-more', 'GET ': 'match' });
  const id = new Identifier('tcp', 40000, 80, [a]);
  id.feed('c2s', ascii('GE'));
  id.feed('c2s', ascii('T '));
  assert.deepEqual(a.calls, ['GE', 'GET ']);
  assert.equal(id.result().app, 'A');
});

test('the TCP prefix is bounded by prefixBytes', () => {
  const a = fake('A', {});
  a.probe = (data) => {
    a.calls.push(String(data.length));
    return 'need-more';
  };
  const id = new Identifier('tcp', 40000, 80, [a], { prefixBytes: 8, probePackets: 100, extractPackets: 10 });
  id.feed('c2s', ascii('123456'));
  id.feed('c2s', ascii('789abc'));
  id.feed('c2s', ascii('more'));
  assert.deepEqual(a.calls, ['6', '8']);
});

test('the TCP prefix keeps every byte in order as it grows past its first allocation', () => {
  let last = Buffer.alloc(0);
  const a = fake('A', {}, {
    probe: (data) => {
      last = Buffer.from(data);
      return 'need-more';
    },
  });
  const segments = [Buffer.alloc(300, 1), Buffer.alloc(700, 2), Buffer.alloc(1500, 3)];
  const id = new Identifier('tcp', 40000, 80, [a]);
  for (const s of segments) id.feed('c2s', s);
  assert.ok(last.equals(Buffer.concat(segments)));
});

test('an unidentified session gives up after probePackets payload packets', () => {
  const id = new Identifier('udp', 40000, 9999, [fake('A', { p: 'need-more' })], { prefixBytes: 64, probePackets: 3, extractPackets: 3 });
  id.feed('c2s', ascii('p'));
  id.feed('s2c', ascii('p'));
  assert.equal(id.result().done, false);
  id.feed('c2s', ascii('p'));
  assert.equal(id.result().done, true);
});

test('a TCP session gives up when both prefixes are full', () => {
  const id = new Identifier('tcp', 40000, 9999, [fake('A', {}, { probe: () => 'need-more' })], { prefixBytes: 4, probePackets: 100, extractPackets: 3 });
  id.feed('c2s', ascii('abcd'));
  assert.equal(id.result().done, false);
  id.feed('s2c', ascii('efgh'));
  assert.equal(id.result().done, true);
});

test('the probe context carries the other direction: stream prefix over TCP', () => {
  let seen = '';
  const a = fake('A', {}, {
    probe: (_d, dir, c) => {
      if (dir === 's2c') seen = c.other.toString('latin1');
      return 'need-more';
    },
  });
  const id = new Identifier('tcp', 40000, 9999, [a]);
  id.feed('c2s', ascii('he'));
  id.feed('c2s', ascii('llo'));
  id.feed('s2c', ascii('x'));
  assert.equal(seen, 'hello');
});

test('the probe context carries the other direction: first datagram over UDP', () => {
  let seen = '';
  const a = fake('A', {}, {
    probe: (_d, dir, c) => {
      if (dir === 's2c') seen = c.other.toString('latin1');
      return 'need-more';
    },
  });
  const id = new Identifier('udp', 40000, 9999, [a]);
  id.feed('c2s', ascii('first'));
  id.feed('c2s', ascii('second'));
  id.feed('s2c', ascii('x'));
  assert.equal(seen, 'first');
});

test('a gap stops probing of that direction', () => {
  const a = fake('A', { ab: 'need-more', x: 'need-more' });
  const id = new Identifier('tcp', 40000, 9999, [a]);
  id.feed('c2s', ascii('ab'));
  id.feedGap('c2s');
  id.feed('c2s', ascii('cd'));
  id.feed('s2c', ascii('x'));
  assert.deepEqual(a.calls, ['ab', 'x']);
});

test('a probe that throws counts as no', () => {
  const bad = fake('Bad', {}, {
    probe: () => {
      throw new Error('bug');
    },
  });
  const id = new Identifier('udp', 40000, 9999, [bad, fake('B', { d: 'match' })]);
  id.feed('c2s', ascii('d'));
  assert.equal(id.result().app, 'B');
});

test('after identification the extractor reads both directions until it wants no more', () => {
  const reads: string[] = [];
  const a = fake('A', { req: 'match' }, {
    extract: (data, dir, _c, meta) => {
      reads.push(`${dir}:${data.toString('latin1')}`);
      meta[dir] = data.toString('latin1');
      return dir === 'c2s';
    },
  });
  const id = new Identifier('udp', 40000, 9999, [a]);
  id.feed('c2s', ascii('req'));
  id.feed('s2c', ascii('resp'));
  id.feed('s2c', ascii('ignored'));
  assert.deepEqual(reads, ['c2s:req', 's2c:resp']);
  assert.deepEqual(id.result().meta, { c2s: 'req', s2c: 'resp' });
});

test('the extractor also reads what the other direction carried before the match', () => {
  const a = fake('A', { banner: 'need-more', reply: 'match' }, {
    extract: (data, dir, _c, meta) => {
      meta[dir] = data.toString('latin1');
      return false;
    },
  });
  const id = new Identifier('tcp', 40000, 9999, [a]);
  id.feed('s2c', ascii('banner'));
  id.feed('c2s', ascii('reply'));
  assert.deepEqual(id.result().meta, { s2c: 'banner', c2s: 'reply' });
  assert.equal(id.result().done, true);
});

test('extraction stops after extractPackets packets', () => {
  const a = fake('A', { m: 'match' }, { extract: () => true });
  const id = new Identifier('udp', 40000, 9999, [a], { prefixBytes: 64, probePackets: 10, extractPackets: 2 });
  id.feed('c2s', ascii('m'));
  id.feed('c2s', ascii('1'));
  assert.equal(id.result().done, false);
  id.feed('c2s', ascii('2'));
  assert.equal(id.result().done, true);
});

test('a refining protocol replaces its parent when it matches', () => {
  const parent = fake('Parent', { 'GET ': 'match' });
  const child = fake('Child', { 'GET ': 'need-more', '101': 'match' }, { refines: 'Parent' });
  const id = new Identifier('tcp', 40000, 80, [parent, child]);
  id.feed('c2s', ascii('GET '));
  assert.equal(id.result().app, 'Parent');
  id.feed('s2c', ascii('101'));
  assert.equal(id.result().app, 'Child');
  assert.equal(id.result().confidence, 'dpi');
});

test('a refining protocol never runs before its parent matched', () => {
  const parent = fake('Parent', { other: 'match' });
  const child = fake('Child', { x: 'match' }, { refines: 'Parent' });
  const id = new Identifier('tcp', 40000, 80, [parent, child]);
  id.feed('c2s', ascii('x'));
  assert.deepEqual(child.calls, []);
  assert.equal(id.result().app, 'unknown');
});

test('the parent stays when the refining protocol says no', () => {
  const parent = fake('Parent', { 'GET ': 'match' });
  const child = fake('Child', {}, { refines: 'Parent' });
  const id = new Identifier('tcp', 40000, 80, [parent, child]);
  id.feed('c2s', ascii('GET '));
  id.feed('s2c', ascii('200'));
  assert.deepEqual([id.result().app, id.result().done], ['Parent', true]);
});

test('the parent extractor keeps its metadata after a refinement', () => {
  const parent = fake('Parent', { 'GET ': 'match' }, {
    extract: (data, dir, _c, meta) => {
      if (dir === 'c2s') meta.path = data.toString('latin1');
      return true;
    },
  });
  const child = fake('Child', { 'GET ': 'need-more', '101': 'match' }, { refines: 'Parent' });
  const id = new Identifier('tcp', 40000, 80, [parent, child]);
  id.feed('c2s', ascii('GET '));
  id.feed('s2c', ascii('101'));
  assert.equal(id.result().meta.path, 'GET ');
});

test('a transport no protocol supports is done at once', () => {
  const id = new Identifier('sctp', 40000, 9999, [fake('A', {}, { transports: ['tcp'] })]);
  assert.equal(id.result().done, true);
});
