import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, FIN, SYN, ether, icmp, ipv4, ipv6, sctp, sctpData, tcp, udp } from './build.js';
import { SessionTable, decodeFrame } from '../../src/packet/index.js';
import { run } from './run.js';

const C = '10.0.0.1';
const S = '10.0.0.2';
const timed = (frames: Buffer[], step = 1000): [number, Buffer][] => frames.map((f, i) => [i * step, f]);
const u = (src: string, sport: number, dst: string, dport: number, p = 'x'): Buffer => ether(ipv4(src, dst, 17, udp(sport, dport, p)));
const t = (src: string, sport: number, dst: string, dport: number, flags: number, seq = 1, ack = 1): Buffer =>
  ether(ipv4(src, dst, 6, tcp(sport, dport, seq, ack, flags)));

function roles(frames: Buffer[]): [string, number, string, number, string] {
  const s = run(timed(frames)).sessions[0];
  assert.ok(s);
  return [s.client.ip, s.client.port, s.server.ip, s.server.port, s.roleEvidence];
}

test('the sender of a SYN is the client, whatever the ports say', () => {
  assert.deepEqual(roles([t(S, 80, C, 40000, SYN)]), [S, 80, C, 40000, 'handshake']);
});

test('the sender of a SYN+ACK seen first is the server', () => {
  assert.deepEqual(roles([t(S, 40000, C, 5555, SYN | ACK)]), [C, 5555, S, 40000, 'handshake']);
});

test('without a handshake the side with a port below 1024 is the server', () => {
  assert.deepEqual(roles([t(S, 443, C, 51000, ACK)]), [C, 51000, S, 443, 'port']);
});

test('without a handshake a known service port above 1024 marks the server', () => {
  assert.deepEqual(roles([u(S, 5432, C, 40000)]), [C, 40000, S, 5432, 'port']);
});

test('when both ports are well known the lower one is the server', () => {
  assert.deepEqual(roles([u(S, 500, C, 123)]), [S, 500, C, 123, 'port']);
});

test('when the ports give no evidence the first sender is the client', () => {
  assert.deepEqual(roles([u(S, 40001, C, 40002)]), [S, 40001, C, 40002, 'first-packet']);
});

test('both directions of a UDP exchange form one session with counters per direction', () => {
  const q = u(C, 40000, S, 53, 'query');
  const a = u(S, 53, C, 40000, 'answer!');
  const r = run(timed([q, a, q]));
  assert.equal(r.sessions.length, 1);
  const s = r.sessions[0];
  assert.deepEqual(
    [s?.c2s, s?.s2c],
    [
      { packets: 2, bytes: 2 * (20 + 8 + 5), payloadBytes: 10 },
      { packets: 1, bytes: 20 + 8 + 7, payloadBytes: 7 },
    ],
  );
  assert.equal(r.stream(1, 'c2s'), 'queryquery');
  assert.equal(r.stream(1, 's2c'), 'answer!');
});

test('IPv6 sessions carry compressed addresses', () => {
  const r = run(timed([ether(ipv6('2001:db8::1', '2001:db8::2', 17, udp(40000, 53, 'q')))]));
  assert.deepEqual([r.sessions[0]?.client.ip, r.sessions[0]?.server.ip], ['2001:db8::1', '2001:db8::2']);
});

test('the same 5-tuple on two VLANs is two sessions', () => {
  const q = ipv4(C, S, 17, udp(40000, 53, 'q'));
  const r = run(timed([ether(q, [[0x8100, 10]]), ether(q, [[0x8100, 20]])]));
  assert.deepEqual(
    r.sessions.map((s) => s.vlan),
    [10, 20],
  );
});

test('ICMP echo sessions are keyed by identifier, with the requester as client and type 8 as server port', () => {
  const req = (id: number): Buffer => ether(ipv4(C, S, 1, icmp(8, 0, (id << 16) | 1)));
  const rep = (id: number): Buffer => ether(ipv4(S, C, 1, icmp(0, 0, (id << 16) | 1)));
  const r = run(timed([req(1), rep(1), req(2), rep(2)]));
  assert.equal(r.sessions.length, 2);
  const s = r.sessions[0];
  assert.deepEqual([s?.ipProto, s?.client.ip, s?.client.port, s?.server.ip, s?.server.port, s?.c2s.packets, s?.s2c.packets], ['icmp', C, 0, S, 8, 1, 1]);
});

test('an ICMP error about a known flow counts on that flow and makes no session', () => {
  const q = ipv4(C, S, 17, udp(40000, 53, 'query'));
  const unreachable = ether(ipv4(S, C, 1, icmp(3, 3, 0, q.subarray(0, 28))));
  const r = run(timed([ether(q), unreachable]));
  assert.equal(r.sessions.length, 1);
  assert.equal(r.sessions[0]?.icmpErrors, 1);
  assert.equal(r.stats.sessions.icmpErrorsAttributed, 1);
});

test('an ICMP error about an unknown flow becomes an ICMP session keyed by its type', () => {
  const q = ipv4(C, S, 17, udp(40000, 53, 'query'));
  const r = run(timed([ether(ipv4(S, C, 1, icmp(3, 3, 0, q.subarray(0, 28))))]));
  assert.deepEqual([r.sessions[0]?.ipProto, r.sessions[0]?.server.port], ['icmp', 3]);
});

test('SCTP DATA chunks are delivered as payload', () => {
  const r = run(timed([ether(ipv4(C, S, 132, sctp(40000, 3868, Buffer.concat([sctpData('diameter'), sctpData('two')]))))]));
  assert.equal(r.stream(1, 'c2s'), 'diametertwo');
  assert.equal(r.sessions[0]?.ipProto, 'sctp');
});

test('at the session cap the least recently seen session is evicted', () => {
  const r = run(timed([u(C, 1001, S, 53), u(C, 1002, S, 53), u(C, 1001, S, 53), u(C, 1003, S, 53)]), { sessions: { maxSessions: 2 } });
  assert.deepEqual(r.events.filter((e) => e.kind === 'end')[0], { kind: 'end', id: 2, reason: 'evicted' });
  assert.equal(r.stats.sessions.ended.evicted, 1);
  assert.equal(r.stats.sessions.peakActive, 2);
});

test('a session idle longer than the timeout (in packet time) ends as idle', () => {
  const r = run(
    [
      [0, u(C, 1001, S, 53)],
      [10_000_000, u(C, 1002, S, 53)],
    ],
    { sessions: { idleTimeoutUs: 5_000_000 } },
  );
  assert.deepEqual(r.events.filter((e) => e.kind === 'end'), [
    { kind: 'end', id: 1, reason: 'idle' },
    { kind: 'end', id: 2, reason: 'end-of-input' },
  ]);
});

test('FIN from both sides ends the session as fin, and the last ACK joins it instead of starting another', () => {
  const frames = [
    t(C, 40000, S, 80, SYN, 100, 0),
    t(S, 80, C, 40000, SYN | ACK, 900, 101),
    t(C, 40000, S, 80, FIN | ACK, 101, 901),
    t(S, 80, C, 40000, FIN | ACK, 901, 102),
    t(C, 40000, S, 80, ACK, 102, 902),
  ];
  const r = run(timed(frames));
  assert.equal(r.stats.sessions.created, 1);
  assert.deepEqual(r.events, [{ kind: 'end', id: 1, reason: 'fin' }]);
  assert.equal(r.sessions[0]?.c2s.packets, 3);
});

test('a new SYN on the tuple of a closed connection starts a new session', () => {
  const frames = [
    t(C, 40000, S, 80, SYN, 100, 0),
    t(C, 40000, S, 80, FIN | ACK, 101, 901),
    t(S, 80, C, 40000, FIN | ACK, 901, 102),
    t(C, 40000, S, 80, SYN, 5000, 0),
  ];
  const r = run(timed(frames));
  assert.deepEqual(
    r.events.map((e) => (e.kind === 'end' ? [e.id, e.reason] : [])),
    [
      [1, 'fin'],
      [2, 'end-of-input'],
    ],
  );
});

test('closed sessions end after their linger time even while others stay active', () => {
  const frames: [number, Buffer][] = [
    [0, t(C, 40000, S, 80, FIN | ACK, 101, 901)],
    [1, t(S, 80, C, 40000, FIN | ACK, 901, 102)],
    [2, u(C, 1001, S, 53)],
    [3_000_000, u(C, 1001, S, 53)],
  ];
  const r = run(frames, { sessions: { closeLingerUs: 1_000_000 } });
  assert.deepEqual(r.events.slice(0, 3), [
    { kind: 'data', id: 2, dir: 'c2s', text: 'x' },
    { kind: 'end', id: 1, reason: 'fin' },
    { kind: 'data', id: 2, dir: 'c2s', text: 'x' },
  ]);
});

test('UDP payload past the delivery cap is counted, not delivered', () => {
  const r = run(timed([u(C, 40000, S, 53, 'abcdef'), u(C, 40000, S, 53, 'ghijkl')]), { sessions: { deliverBytes: 8 } });
  assert.equal(r.stream(1, 'c2s'), 'abcdefgh');
  assert.equal(r.stats.sessions.datagramBytesBeyondCap, 4);
});

test('expire at a given time ends sessions idle since before the timeout, without waiting for a packet', () => {
  const ends: string[] = [];
  const table = new SessionTable({ onPayload: () => undefined, onEnd: (s, reason) => void ends.push(`${s.id} ${reason}`) }, { idleTimeoutUs: 1000 });
  const p = decodeFrame(u(C, 40000, S, 53), 1, 5000);
  assert.ok(typeof p === 'object');
  table.packet(p);
  table.expire(5500);
  assert.deepEqual(ends, []);
  table.expire(6001);
  assert.deepEqual(ends, ['1 idle']);
  assert.equal(table.size, 0);
});

test('at the session cap a closed session lingering for stragglers makes room before a live one', () => {
  const frames = [
    u(C, 1001, S, 53),
    t(C, 40000, S, 80, FIN | ACK, 101, 901),
    t(S, 80, C, 40000, FIN | ACK, 901, 102),
    u(C, 1003, S, 53),
  ];
  const r = run(timed(frames), { sessions: { maxSessions: 2 } });
  assert.deepEqual(r.events.filter((e) => e.kind === 'end')[0], { kind: 'end', id: 2, reason: 'fin' });
  assert.equal(r.stats.sessions.ended.evicted, 0);
});

test('onPacket sees every packet of a session with its direction, flags and frame, before its payload', () => {
  const seen: string[] = [];
  const table = new SessionTable({
    onPacket: (s, dir, pkt) => void seen.push(`${s.id} ${dir} flags=${pkt.tcpFlags} frame=${pkt.frame.length}`),
    onPayload: (s, dir, data) => void seen.push(`${s.id} ${dir} data=${data.toString()}`),
    onEnd: () => undefined,
  });
  for (const f of [t(C, 40000, S, 80, SYN, 1, 0), ether(ipv4(S, C, 6, tcp(80, 40000, 9, 2, SYN | ACK))), ether(ipv4(C, S, 6, tcp(40000, 80, 2, 10, ACK, 'hi')))]) {
    const p = decodeFrame(f);
    assert.ok(typeof p === 'object');
    table.packet(p);
  }
  assert.deepEqual(seen, ['1 c2s flags=2 frame=54', '1 s2c flags=18 frame=54', '1 c2s flags=16 frame=56', '1 c2s data=hi']);
});
