import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, decodeLink, formatIp, type Packet } from '../../src/packet/index.js';
import { ACK, PSH, SYN, ahExt, ether, fragExt, icmp, ip4, ip6, ipv4, ipv6, optsExt, sctp, tcp, udp } from './build.js';

function packet(r: ReturnType<typeof decodeFrame>): Packet {
  assert.equal(typeof r, 'object', `expected a packet, got ${String(r)}`);
  return r as Packet;
}

const V4 = ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000, 80, 1000, 0, SYN));
const V6 = ipv6('fd00::1', 'fd00::2', 17, udp(5353, 53, 'q'));

function link(linkType: number, frame: Buffer): [number, number, number] {
  const out = { ipVersion: 0 as 0 | 4 | 6, offset: 0, vlan: -1 };
  decodeLink(linkType, frame, out);
  return [out.ipVersion, out.offset, out.vlan];
}

test('Ethernet frames give the IP version and header offset', () => {
  assert.deepEqual(link(1, ether(V4)), [4, 14, -1]);
  assert.deepEqual(link(1, ether(V6)), [6, 14, -1]);
});

test('an 802.1Q tag is skipped and its VLAN id kept', () => {
  assert.deepEqual(link(1, ether(V4, [[0x8100, 42]])), [4, 18, 42]);
});

test('QinQ (0x88a8 and 0x9100 outer tags) keeps the outer VLAN id', () => {
  assert.deepEqual(link(1, ether(V4, [[0x88a8, 100], [0x8100, 7]])), [4, 22, 100]);
  assert.deepEqual(link(1, ether(V6, [[0x9100, 200], [0x8100, 7]])), [6, 22, 200]);
});

test('an Ethernet frame carrying ARP is not IP', () => {
  const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
  assert.deepEqual(link(1, arp), [0, 0, -1]);
});

test('Linux cooked capture v1 (113) and v2 (276) find the IP header', () => {
  const sll = Buffer.alloc(16);
  sll.writeUInt16BE(0x0800, 14);
  assert.deepEqual(link(113, Buffer.concat([sll, V4])), [4, 16, -1]);
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x86dd, 0);
  assert.deepEqual(link(276, Buffer.concat([sll2, V6])), [6, 20, -1]);
});

test('BSD loopback reads the address family in either byte order, with every platform AF_INET6 value', () => {
  const af = (v: number, le: boolean): Buffer => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  };
  for (const le of [true, false]) {
    assert.deepEqual(link(0, Buffer.concat([af(2, le), V4])), [4, 4, -1]);
    for (const v6 of [10, 24, 28, 30]) assert.deepEqual(link(0, Buffer.concat([af(v6, le), V6])), [6, 4, -1]);
  }
  assert.deepEqual(link(108, Buffer.concat([af(2, false), V4])), [4, 4, -1]);
});

test('raw IP link types (101 by version nibble, 228 IPv4, 229 IPv6) start at offset 0', () => {
  assert.deepEqual(link(101, V4), [4, 0, -1]);
  assert.deepEqual(link(101, V6), [6, 0, -1]);
  assert.deepEqual(link(228, V4), [4, 0, -1]);
  assert.deepEqual(link(229, V6), [6, 0, -1]);
});

test('an unknown link type is not IP', () => {
  assert.deepEqual(link(147, V4), [0, 0, -1]);
});

test('an IPv4 header with options is skipped by its IHL to reach TCP', () => {
  const p = packet(decodeFrame(ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1234, 443, 7, 9, PSH | ACK, 'hi'), { options: Buffer.from([1, 1, 1, 0]) }))));
  assert.deepEqual([p.srcPort, p.dstPort, p.seq, p.ack, p.tcpFlags, p.payload.toString()], [1234, 443, 7, 9, PSH | ACK, 'hi']);
  assert.equal(p.ipBytes, 24 + 22);
});

test('Ethernet padding after a short IPv4 packet is not payload', () => {
  const frame = Buffer.concat([ether(ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, 'x'))), Buffer.alloc(10)]);
  assert.equal(packet(decodeFrame(frame)).payload.toString(), 'x');
});

test('the IPv6 extension chain (hop-by-hop, routing, destination options, AH) is walked to the transport header', () => {
  const frame = ether(ipv6('fd00::1', 'fd00::2', 6, tcp(5, 6, 0, 0, SYN), [optsExt(0), optsExt(43, 2), optsExt(60), ahExt()]));
  const p = packet(decodeFrame(frame));
  assert.deepEqual([p.proto, p.srcPort, p.dstPort, p.tcpFlags], [6, 5, 6, SYN]);
});

test('IPv6 stops at ESP: the protocol is ESP and the rest is opaque payload', () => {
  const p = packet(decodeFrame(ether(ipv6('fd00::1', 'fd00::2', 50, Buffer.alloc(16, 1), [optsExt(60)]))));
  assert.deepEqual([p.proto, p.payload.length], [50, 16]);
});

test('an IPv6 atomic fragment (offset 0, no more fragments) is a whole packet', () => {
  const p = packet(decodeFrame(ether(ipv6('fd00::1', 'fd00::2', 17, udp(1, 2, 'a'), [fragExt(0, false, 9)]))));
  assert.deepEqual([p.fragment, p.proto, p.payload.toString()], [false, 17, 'a']);
});

test('a truncated TCP header is reported, not decoded', () => {
  assert.equal(decodeFrame(ether(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(10)))), 'l4-truncated');
});

test('an IPv4 header shorter than 20 bytes is reported as truncated', () => {
  assert.equal(decodeFrame(ether(V4).subarray(0, 14 + 12)), 'ip-truncated');
});

test('SCTP gives its ports', () => {
  const p = packet(decodeFrame(ether(ipv4('10.0.0.1', '10.0.0.2', 132, sctp(2905, 2906)))));
  assert.deepEqual([p.proto, p.srcPort, p.dstPort], [132, 2905, 2906]);
});

test('an ICMP echo request gives type, code and identifier', () => {
  const p = packet(decodeFrame(ether(ipv4('10.0.0.1', '10.0.0.2', 1, icmp(8, 0, (0x1234 << 16) | 1, Buffer.from('ping'))))));
  assert.deepEqual([p.icmpType, p.icmpCode, p.icmpId, p.inner.present], [8, 0, 0x1234, false]);
});

test('an ICMP port unreachable decodes the quoted packet to its 5-tuple', () => {
  const quoted = ipv4('10.0.0.1', '10.0.0.2', 17, udp(40000, 53, 'query'));
  const p = packet(decodeFrame(ether(ipv4('10.0.0.2', '10.0.0.1', 1, icmp(3, 3, 0, quoted.subarray(0, 28))))));
  const i = p.inner;
  assert.deepEqual([i.present, i.proto, formatIp(i.src), i.srcPort, formatIp(i.dst), i.dstPort], [true, 17, '10.0.0.1', 40000, '10.0.0.2', 53]);
});

test('an ICMPv6 time exceeded decodes the quoted IPv6 packet through its extension headers', () => {
  const quoted = ipv6('fd00::1', 'fd00::2', 6, tcp(1111, 22, 0, 0, SYN), [optsExt(60)]);
  const p = packet(decodeFrame(ether(ipv6('fd00::9', 'fd00::1', 58, icmp(3, 0, 0, quoted.subarray(0, 40 + 8 + 8))))));
  const i = p.inner;
  assert.deepEqual([p.icmpType, i.present, i.proto, formatIp(i.src), i.srcPort, formatIp(i.dst), i.dstPort], [3, true, 6, 'fd00::1', 1111, 'fd00::2', 22]);
});

test('addresses format as dotted IPv4 and RFC 5952 IPv6', () => {
  assert.equal(formatIp(ip4('192.168.0.10')), '192.168.0.10');
  assert.equal(formatIp(ip6('2001:db8:0:0:0:0:2:1')), '2001:db8::2:1');
  assert.equal(formatIp(ip6('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIp(ip6('2001:0:0:1:0:0:0:1')), '2001:0:0:1::1');
  assert.equal(formatIp(ip6('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIp(ip6('::')), '::');
  assert.equal(formatIp(ip6('::1')), '::1');
  assert.equal(formatIp(ip6('fe80::')), 'fe80::');
  assert.equal(formatIp(ip6('::ffff:c000:280')), '::ffff:192.0.2.128');
  assert.equal(formatIp(ip6('2001:DB8::AB')), '2001:db8::ab');
});
