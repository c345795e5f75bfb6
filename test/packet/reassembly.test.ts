import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, PSH, RST, SYN, ether, ipv4, tcp } from './build.js';
import { run } from './run.js';

const C = '10.0.0.1';
const S = '10.0.0.2';
const ISN_C = 1000;
const ISN_S = 5000;

/** Client → server segment. */
function c(seq: number, flags: number, payload = '', ack = ISN_S + 1): Buffer {
  return ether(ipv4(C, S, 6, tcp(40000, 80, seq, ack, flags, payload)));
}

/** Server → client segment. */
function s(seq: number, flags: number, payload = '', ack = ISN_C + 1): Buffer {
  return ether(ipv4(S, C, 6, tcp(80, 40000, seq, ack, flags, payload)));
}

function handshake(isnC = ISN_C, isnS = ISN_S): Buffer[] {
  return [c(isnC, SYN, '', 0), s(isnS, SYN | ACK, '', isnC + 1), c(isnC + 1, ACK, '', isnS + 1)];
}

const timed = (frames: Buffer[]): [number, Buffer][] => frames.map((f, i) => [i * 1000, f]);
const D = ISN_C + 1;

test('in-order segments are delivered as one stream per direction', () => {
  const r = run(timed([...handshake(), c(D, PSH | ACK, 'GET / HTTP/1.1\r\n'), c(D + 16, PSH | ACK, '\r\n'), s(ISN_S + 1, PSH | ACK, 'HTTP/1.1 200 OK')]));
  assert.equal(r.stream(1, 'c2s'), 'GET / HTTP/1.1\r\n\r\n');
  assert.equal(r.stream(1, 's2c'), 'HTTP/1.1 200 OK');
});

test('out-of-order segments are held and delivered in sequence order', () => {
  const r = run(timed([...handshake(), c(D + 10, ACK, 'KLMNO'), c(D + 5, ACK, 'FGHIJ'), c(D, ACK, 'ABCDE')]));
  assert.equal(r.stream(1, 'c2s'), 'ABCDEFGHIJKLMNO');
  assert.equal(r.stats.sessions.outOfOrderSegments, 2);
  assert.equal(r.stats.sessions.bufferedBytes, 0);
});

test('a retransmitted segment is delivered once and counted', () => {
  const r = run(timed([...handshake(), c(D, ACK, 'hello'), c(D, ACK, 'hello'), c(D + 5, ACK, ' world')]));
  assert.equal(r.stream(1, 'c2s'), 'hello world');
  assert.equal(r.stats.sessions.retransmittedBytes, 5);
});

test('overlapping data keeps the first copy of each byte, held or delivered', () => {
  const r = run(timed([...handshake(), c(D + 5, ACK, 'BBBB'), c(D, ACK, 'AAAAAAAAAA'), c(D + 8, ACK, 'XXXXXX')]));
  assert.equal(r.stream(1, 'c2s'), 'AAAAABBBBAXXXX');
});

test('when a direction holds too many segments it skips the hole, reports a gap and continues', () => {
  const r = run(timed([...handshake(), c(D + 5, ACK, 'AAAA'), c(D + 9, ACK, 'BBBB'), c(D + 13, ACK, 'CCCC')]), {
    sessions: { maxSegmentsPerDirection: 2 },
  });
  assert.equal(r.stream(1, 'c2s'), '[gap 5]AAAABBBBCCCC');
  assert.deepEqual([r.stats.sessions.gaps, r.stats.sessions.gapBytes], [1, 5]);
});

test('when a direction holds too many bytes it skips the hole', () => {
  const r = run(timed([...handshake(), c(D + 5, ACK, 'AAAA'), c(D + 20, ACK, 'BBBB')]), { sessions: { maxBufferedPerDirection: 6 } });
  assert.equal(r.stream(1, 'c2s'), '[gap 5]AAAA[gap 11]BBBB');
});

test('a FIN with a hole before it flushes the held data after a gap', () => {
  const r = run(timed([...handshake(), c(D + 3, ACK, 'late'), c(D + 7, FIN | ACK)]));
  assert.equal(r.stream(1, 'c2s'), '[gap 3]late');
});

test('an acknowledgement past a hole means the bytes were lost: the stream skips them at once', () => {
  const r = run(timed([...handshake(), c(D + 5, ACK, 'world'), s(ISN_S + 1, ACK, '', D + 10)]));
  assert.deepEqual(
    r.events.filter((e) => e.kind !== 'end'),
    [
      { kind: 'gap', id: 1, dir: 'c2s', bytes: 5 },
      { kind: 'data', id: 1, dir: 'c2s', text: 'world' },
    ],
  );
});

test('sequence numbers wrap around 2^32 without breaking the stream', () => {
  const isn = 0xfffffff8;
  const first = isn + 1;
  const r = run(
    timed([
      ...handshake(isn),
      c(first + 10, ACK, 'klmnopqrst', ISN_S + 1),
      c(first, ACK, 'abcdefghij', ISN_S + 1),
      c(first + 20, ACK, 'uvwxyz', ISN_S + 1),
    ]),
  );
  assert.equal(r.stream(1, 'c2s'), 'abcdefghijklmnopqrstuvwxyz');
});

test('a connection picked up midstream starts its streams at the first segment seen', () => {
  const r = run(timed([s(ISN_S + 100, PSH | ACK, 'response'), c(D + 50, PSH | ACK, 'next request')]));
  assert.equal(r.stream(1, 's2c'), 'response');
  assert.equal(r.stream(1, 'c2s'), 'next request');
  const sess = r.sessions[0];
  assert.deepEqual([sess?.client.port, sess?.server.port, sess?.roleEvidence], [40000, 80, 'port']);
});

test('a RST ends the session with reason rst, delivering held data first', () => {
  const r = run(timed([...handshake(), c(D + 2, ACK, 'xy'), s(ISN_S + 1, RST)]));
  assert.deepEqual(r.events, [
    { kind: 'gap', id: 1, dir: 'c2s', bytes: 2 },
    { kind: 'data', id: 1, dir: 'c2s', text: 'xy' },
    { kind: 'end', id: 1, reason: 'rst' },
  ]);
});

test('only the first deliverBytes of a direction are delivered; the rest is counted', () => {
  const r = run(timed([...handshake(), c(D, ACK, 'abcdefgh'), c(D + 8, ACK, 'ijklmnop'), c(D + 16, ACK, 'qrst')]), {
    sessions: { deliverBytes: 10 },
  });
  assert.equal(r.stream(1, 'c2s'), 'abcdefghij');
  assert.equal(r.stats.sessions.bytesBeyondCap, 10);
});

test('out-of-order data beyond the delivery cap is never held', () => {
  const r = run(timed([...handshake(), c(D + 20, ACK, 'far away')]), { sessions: { deliverBytes: 10 } });
  assert.equal(r.stats.sessions.peakBufferedBytes, 0);
  assert.equal(r.stats.sessions.bytesBeyondCap, 8);
});

test('the global reassembly cap makes a stream skip its hole instead of holding more', () => {
  const frames = [...handshake(), c(D + 1, ACK, 'aaaa')];
  const other = (seq: number, p: string): Buffer => ether(ipv4('10.0.0.3', S, 6, tcp(40001, 80, seq, 0, ACK, p)));
  frames.push(other(100, 'x'), other(102, 'bbbb'));
  const r = run(timed(frames), { sessions: { maxBufferedTotal: 6 } });
  assert.ok(r.stats.sessions.peakBufferedBytes <= 6);
  assert.equal(r.stream(2, 'c2s'), 'x[gap 1]bbbb');
});

test('data carried on a SYN (TCP Fast Open) starts the stream', () => {
  const r = run(timed([c(ISN_C, SYN, 'early', 0), s(ISN_S, SYN | ACK, '', ISN_C + 6), c(ISN_C + 6, ACK, ' data')]));
  assert.equal(r.stream(1, 'c2s'), 'early data');
});
