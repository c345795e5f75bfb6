import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ether, fragExt, ipv4, ipv6, udp } from './build.js';
import { run } from './run.js';

/** A UDP datagram with a 24-byte payload, cut into IPv4 fragments at 8-byte boundaries. */
const DGRAM = udp(5000, 53, 'abcdefghijklmnopqrstuvwx');

function v4frag(off: number, len: number, mf: boolean, id = 7, bytes: Buffer = DGRAM): Buffer {
  return ether(ipv4('10.0.0.1', '10.0.0.2', 17, bytes.subarray(off, off + len), { id, mf, fragOffset: off }));
}

const IN_ORDER = [v4frag(0, 16, true), v4frag(16, 8, true), v4frag(24, 8, false)];

test('IPv4 fragments in order reassemble into one datagram', () => {
  const r = run(IN_ORDER.map((f, i) => [i, f]));
  assert.equal(r.stream(1, 'c2s'), 'abcdefghijklmnopqrstuvwx');
  assert.equal(r.stats.defrag.reassembled, 1);
});

test('IPv4 fragments in reverse order reassemble the same datagram', () => {
  const r = run([...IN_ORDER].reverse().map((f, i) => [i, f]));
  assert.equal(r.stream(1, 'c2s'), 'abcdefghijklmnopqrstuvwx');
});

test('the reassembled datagram counts every fragment as a packet and all their IP bytes', () => {
  const r = run(IN_ORDER.map((f, i) => [i, f]));
  const s = r.sessions[0];
  assert.deepEqual([s?.c2s.packets, s?.c2s.bytes], [3, 3 * 20 + 32]);
});

test('overlapping fragments keep the first copy of each byte', () => {
  const evil = Buffer.from(DGRAM);
  evil.write('XXXXXXXX', 16);
  const r = run([
    [0, v4frag(0, 24, true)],
    [1, v4frag(16, 16, false, 7, evil)],
  ]);
  assert.equal(r.stream(1, 'c2s'), 'abcdefghijklmnopqrstuvwx');
  assert.equal(r.stats.defrag.overlapping, 1);
});

test('a datagram missing a fragment is never delivered and is counted at end of input', () => {
  const r = run([
    [0, IN_ORDER[0] as Buffer],
    [1, IN_ORDER[2] as Buffer],
  ]);
  assert.deepEqual(r.events, []);
  assert.equal(r.stats.defrag.droppedIncomplete, 1);
});

test('a datagram older than the timeout is dropped and counted', () => {
  const r = run(
    [
      [0, IN_ORDER[0] as Buffer],
      [5_000_000, IN_ORDER[1] as Buffer],
      [5_000_001, IN_ORDER[2] as Buffer],
    ],
    { defrag: { timeoutUs: 1_000_000 } },
  );
  assert.equal(r.stats.defrag.droppedTimeout, 1);
  assert.equal(r.stats.defrag.reassembled, 0);
});

test('a datagram with more fragments than allowed is dropped', () => {
  const r = run(
    IN_ORDER.map((f, i) => [i, f]),
    { defrag: { maxFragmentsPerDatagram: 2 } },
  );
  assert.equal(r.stats.defrag.droppedTooManyFragments, 1);
  assert.equal(r.stats.defrag.reassembled, 0);
});

test('when the table of waiting datagrams is full the oldest is dropped', () => {
  const r = run(
    [
      [0, v4frag(0, 16, true, 1)],
      [1, v4frag(0, 16, true, 2)],
      [2, v4frag(16, 16, false, 2)],
    ],
    { defrag: { maxDatagrams: 1 } },
  );
  assert.equal(r.stats.defrag.droppedTableFull, 1);
  assert.equal(r.stats.defrag.reassembled, 1);
});

test('a fragment reaching past 65535 bytes is dropped', () => {
  const r = run([[0, ether(ipv4('10.0.0.1', '10.0.0.2', 17, Buffer.alloc(64), { id: 3, mf: true, fragOffset: 65528 }))]]);
  assert.equal(r.stats.defrag.droppedOversize, 1);
});

test('IPv6 fragments reassemble, including a destination-options header after the fragment header', () => {
  const inner = Buffer.concat([Buffer.from([17, 0, 0, 0, 0, 0, 0, 0]), DGRAM]);
  const f1 = ether(ipv6('fd00::1', 'fd00::2', 60, inner.subarray(0, 24), [fragExt(0, true, 0xabcdef)]));
  const f2 = ether(ipv6('fd00::1', 'fd00::2', 60, inner.subarray(24), [fragExt(24, false, 0xabcdef)]));
  const r = run([
    [0, f2],
    [1, f1],
  ]);
  assert.equal(r.stream(1, 'c2s'), 'abcdefghijklmnopqrstuvwx');
  assert.equal(r.sessions[0]?.server.port, 53);
});

test('IPv6 fragments with different identifiers do not mix', () => {
  const f1 = ether(ipv6('fd00::1', 'fd00::2', 17, DGRAM.subarray(0, 16), [fragExt(0, true, 1)]));
  const f2 = ether(ipv6('fd00::1', 'fd00::2', 17, DGRAM.subarray(16), [fragExt(16, false, 2)]));
  const r = run([
    [0, f1],
    [1, f2],
  ]);
  assert.equal(r.stats.defrag.reassembled, 0);
  assert.equal(r.stats.defrag.droppedIncomplete, 2);
});
