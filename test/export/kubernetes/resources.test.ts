import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFrom, deployment, errorsOf, policy } from './fixtures.js';

const app = deployment('web', { app: 'web' }, ['http:8080']);

/** The one error of an input with a single broken NetworkPolicy `p`. */
function onlyError(spec: string): string {
  const errors = errorsOf(app + policy('p', spec));
  assert.equal(errors.length, 1, errors.join('\n'));
  return errors[0] as string;
}

test('an error names the file, the line and column of the field, the policy and the field path', () => {
  const error = onlyError('  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: A}}]');
  assert.match(error, /^test\.yaml:28:29: NetworkPolicy default\/p: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: CIDR error: invalid CIDR address: A$/);
});

test('an except entry that is no CIDR is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/33]}}]'), /except\[0\]: CIDR error/);
});

test('an except entry outside its cidr is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]'), /except\[0\]: except 11\.0\.0\.0\/16 lies outside cidr/);
});

test('a peer with both an ipBlock and a selector is refused', () => {
  assert.match(
    onlyError('  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 0.0.0.0/0}, podSelector: {}}]'),
    /from\[0\]: rule NetworkPolicyPeer error: cannot have both IPBlock and PodSelector\/NamespaceSelector set/,
  );
});

test('an empty peer is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - from: [{}]'), /from\[0\]: rule NetworkPolicyPeer error: cannot have empty rule peer/);
});

test('endPort with a named port is refused', () => {
  assert.match(
    onlyError('  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 9000}]'),
    /ports\[0\]\.endPort: endPort field cannot be defined if the port field is defined as a named \(string\) port/,
  );
});

test('endPort below port is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - ports: [{port: 9000, endPort: 8000}]'), /ports\[0\]\.endPort: endPort field must be equal or greater than port/);
});

test('a port outside 1-65535 is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - ports: [{port: 70000}]'), /ports\[0\]\.port: must be a port number 1-65535/);
});

test('an unknown protocol is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - ports: [{port: 80, protocol: ICMP}]'), /ports\[0\]\.protocol: unknown protocol "ICMP"/);
});

test('an egress named port towards an ipBlock is refused', () => {
  assert.match(
    onlyError('  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: http}]'),
    /spec\.egress\[0\]\.ports: named port error: cannot convert named port for an IP destination/,
  );
});

test('an egress named port in a rule without to is refused, since it reaches addresses too', () => {
  assert.match(onlyError('  podSelector: {}\n  egress:\n  - ports: [{port: http}]'), /named port error/);
});

test('an ingress named port that no container declares is accepted', () => {
  assert.deepEqual(errorsOf(app + policy('p', '  podSelector: {}\n  ingress:\n  - ports: [{port: nothing}]')), []);
});

test('an unknown policyType is refused', () => {
  assert.match(onlyError('  podSelector: {}\n  policyTypes: [Ingress, Sideways]'), /spec\.policyTypes: must be a list of Ingress and Egress/);
});

test('every error of an input is reported at once', () => {
  const errors = errorsOf(app + policy('a', '  podSelector: {}\n  ingress:\n  - from: [{}]') + policy('b', '  podSelector: {matchLabels: {"a@b": x}}'));
  assert.equal(errors.length, 2);
});

test('two NetworkPolicies with one name in one namespace are refused', () => {
  const errors = errorsOf(app + policy('p', '  podSelector: {}') + policy('p', '  podSelector: {}'));
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /NetworkPolicy default\/p: defined twice \(first defined in test\.yaml:\d+\)/);
});

test('policies with one name in different namespaces are both kept', () => {
  const { cluster, problems } = clusterFrom(app + policy('p', '  podSelector: {}') + policy('p', '  podSelector: {}', 'other'));
  assert.deepEqual(problems, []);
  assert.equal(cluster.policies.length, 2);
});

test('the effective policyTypes follow the listed ones, else Ingress plus Egress when egress rules exist', () => {
  const types = (spec: string): [boolean, boolean] => {
    const p = clusterFrom(app + policy('p', spec)).cluster.policies[0];
    assert.ok(p);
    return [p.restrictsIngress, p.restrictsEgress];
  };
  assert.deepEqual(types('  podSelector: {}'), [true, false]);
  assert.deepEqual(types('  podSelector: {}\n  egress: []'), [true, false]);
  assert.deepEqual(types('  podSelector: {}\n  egress: [{}]'), [true, true]);
  assert.deepEqual(types('  podSelector: {}\n  policyTypes: [Egress]'), [false, true]);
});

test('an ipBlock holds its cidr minus the excepts, adjacent excepts leaving no gap', () => {
  const { cluster } = clusterFrom(
    app + policy('p', '  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/9, 10.128.0.0/10]}}]'),
  );
  const peer = cluster.policies[0]?.ingress[0]?.peers?.[0];
  assert.ok(peer?.kind === 'ipBlock');
  assert.deepEqual(peer.ranges, [{ first: 0x0ac00000, last: 0x0affffff }]);
});

test('two Namespaces with one name are refused', () => {
  const ns = 'kind: Namespace\nmetadata: {name: team}\n';
  const errors = errorsOf(`${app}---\n${ns}---\n${ns}`);
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /Namespace team: defined twice/);
});

test('two Deployments with one name in one namespace are refused', () => {
  const errors = errorsOf(app + app);
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /Deployment default\/web: defined twice/);
});

test('an IPv6 except under an IPv4 cidr is refused as lying outside it', () => {
  assert.match(onlyError('  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: ["fd00::/64"]}}]'), /except\[0\]: except fd00::\/64 lies outside cidr 10\.0\.0\.0\/8/);
});

test('an IPv6 ipBlock is accepted and adds no IPv4 range', () => {
  const { cluster, problems } = clusterFrom(app + policy('p', '  podSelector: {}\n  ingress:\n  - from: [{ipBlock: {cidr: "fd00::/8", except: ["fd00::/16"]}}]'));
  assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
  const peer = cluster.policies[0]?.ingress[0]?.peers?.[0];
  assert.ok(peer?.kind === 'ipBlock');
  assert.deepEqual(peer.ranges, []);
});
