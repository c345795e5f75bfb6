import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddress, normalizeFqdn } from '../../../src/policy/document/address.js';

test('IPv4 and IPv6 addresses, CIDRs and ranges are valid', () => {
  for (const ok of ['10.0.0.5', '10.0.0.0/8', '0.0.0.0/0', 'fd00::/64', '::1', '::ffff:10.0.0.1', '10.0.0.5-10.0.0.9', 'fd00::1-fd00::ff']) {
    assert.deepEqual(checkAddress(ok), { ok: true }, ok);
  }
});

test('malformed addresses, prefixes and ranges are refused', () => {
  for (const bad of ['10.0.0.256', '10.0.0.0/33', 'fd00::/129', '10.0.0.9-10.0.0.5', '10.0.0.1-fd00::1', 'fe80::1%eth0', 'web', '10.0.0.0/x', '010.0.0.1']) {
    assert.equal(checkAddress(bad).ok, false, bad);
  }
});

test('a CIDR with host bits set is valid but warned about', () => {
  const r = checkAddress('10.1.2.3/8');
  assert.ok(r.ok && r.warning !== undefined);
});

test('fqdn patterns are lower-cased and lose the trailing dot', () => {
  assert.deepEqual(normalizeFqdn('API.Example.com.'), { ok: true, pattern: 'api.example.com' });
  assert.deepEqual(normalizeFqdn('*.example.com'), { ok: true, pattern: '*.example.com' });
});

test('a wildcard anywhere but the first label is refused', () => {
  for (const bad of ['api.*.com', '*', 'ex ample.com', '*.']) assert.equal(normalizeFqdn(bad).ok, false, bad);
});
