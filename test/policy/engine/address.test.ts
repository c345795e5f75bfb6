import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import {
  canonicalIp,
  formatIp,
  formatIpv6,
  parseAddressSpec,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
  rangeContains,
  rangeToCidrs,
  unmapV4,
  type IpAddr,
  type IpRange,
} from '../../../src/model/address.js';

function addr(text: string): IpAddr {
  const a = parseIp(text);
  assert.ok(a, text);
  return a;
}

function range(text: string): IpRange {
  const r = parseAddressSpec(text);
  assert.ok(r, text);
  return r;
}

test('a dotted quad parses to its 32-bit value', () => {
  assert.equal(parseIpv4('10.1.2.3'), 0x0a010203);
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
});

test('IPv4 text with a leading zero, an octet over 255, too few or too many parts is refused', () => {
  for (const bad of ['010.0.0.1', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '', '1.2.3.4 ', '+1.2.3.4', '1.2.3.a']) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

test('compressed, full and IPv4-suffixed IPv6 forms parse to the same value', () => {
  const expected = parseIpv6('2001:db8::1');
  assert.equal(parseIpv6('2001:0db8:0000:0000:0000:0000:0000:0001'), expected);
  assert.equal(parseIpv6('2001:DB8:0:0::1'), expected);
  assert.equal(parseIpv6('::ffff:10.0.0.1'), (0xffffn << 32n) | 0x0a000001n);
  assert.equal(parseIpv6('::'), 0n);
});

test('IPv6 text with two gaps, a zone, too many groups or long groups is refused', () => {
  for (const bad of ['1::2::3', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '12345::', ':1::', '1:2:3:4:5:6:7', '::ffff:1.2.3', 'g::1']) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

test('IPv6 is formatted as RFC 5952 says: lower case, the longest zero run compressed, the first on a tie', () => {
  assert.equal(formatIpv6(parseIpv6('2001:0DB8:0:0:1:0:0:1') as bigint), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1') as bigint), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(parseIpv6('0:0:0:0:0:0:0:0') as bigint), '::');
  assert.equal(formatIpv6(parseIpv6('::ffff:a00:1') as bigint), '::ffff:10.0.0.1');
});

test('formatting then parsing any 128-bit value gives it back, as text Node accepts as IPv6', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      const text = formatIpv6(v);
      assert.equal(parseIpv6(text), v);
      assert.ok(isIPv6(text), text);
    }),
  );
});

test('canonicalIp reduces an IPv4-mapped IPv6 address to IPv4 and refuses what is no address', () => {
  assert.equal(canonicalIp('::FFFF:10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('FD00:0::1'), 'fd00::1');
  assert.equal(canonicalIp('localhost'), undefined);
});

test('unmapV4 leaves other IPv6 addresses alone', () => {
  assert.deepEqual(unmapV4(addr('fd00::1')), addr('fd00::1'));
});

test('a CIDR is the range of its prefix, host bits ignored', () => {
  assert.deepEqual(parseCidr('10.1.2.3/8'), { version: 4, first: 0x0a000000, last: 0x0affffff });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { version: 4, first: 0, last: 0xffffffff });
  assert.deepEqual(parseCidr('fd00::/127'), { version: 6, first: 0xfdn << 120n, last: (0xfdn << 120n) | 1n });
});

test('a CIDR with a bad prefix length is refused', () => {
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', 'fd00::/129', '10.0.0.0/-1']) assert.equal(parseCidr(bad), undefined, bad);
});

test('an address spec is one address, a CIDR or an ordered range of one version', () => {
  assert.deepEqual(parseAddressSpec('10.0.0.5'), { version: 4, first: 0x0a000005, last: 0x0a000005 });
  assert.deepEqual(parseAddressSpec(' 10.0.0.5 - 10.0.0.9 '), { version: 4, first: 0x0a000005, last: 0x0a000009 });
  assert.equal(parseAddressSpec('10.0.0.9-10.0.0.5'), undefined);
  assert.equal(parseAddressSpec('10.0.0.1-fd00::1'), undefined);
  assert.equal(parseAddressSpec('bad'), undefined);
});

test('containment treats IPv4 and its IPv4-mapped IPv6 form as one address', () => {
  assert.equal(rangeContains(range('10.0.0.0/8'), addr('::ffff:10.9.9.9')), true);
  assert.equal(rangeContains(range('::ffff:0:0/96'), addr('10.9.9.9')), true);
});

test('containment holds neither outside the range nor across versions otherwise', () => {
  assert.equal(rangeContains(range('10.0.0.0/8'), addr('11.0.0.0')), false);
  assert.equal(rangeContains(range('10.0.0.0/8'), addr('fd00::1')), false);
});

test('rangeToCidrs covers exactly the range with aligned blocks', () => {
  assert.deepEqual(rangeToCidrs(range('10.0.0.5-10.0.0.9')), ['10.0.0.5/32', '10.0.0.6/31', '10.0.0.8/31']);
  assert.deepEqual(rangeToCidrs(range('0.0.0.0/0')), ['0.0.0.0/0']);
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (a, b) => {
      const [first, last] = a <= b ? [a, b] : [b, a];
      let next = first;
      for (const cidr of rangeToCidrs({ version: 4, first, last })) {
        const r = parseCidr(cidr);
        assert.ok(r && r.version === 4);
        assert.equal(r.first, next);
        next = r.last + 1;
      }
      assert.equal(next, last + 1);
    }),
  );
});

test('formatIp of a parsed IPv4 address gives the text back', () => {
  assert.equal(formatIp(addr('192.168.0.1')), '192.168.0.1');
});
