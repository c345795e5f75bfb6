import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutAddressSpace } from '../../../src/export/kubernetes/reach.js';
import { connlist, deployment, namespace, policy } from './fixtures.js';

const EXT = '0.0.0.0-255.255.255.255[External]';
const WEB = 'default/web[Deployment]';
const DB = 'default/db[Deployment]';
const apps = deployment('web', { app: 'web' }, ['http:8080']) + deployment('db', { app: 'db' }, ['pg:5432', 'dns:53/UDP']);

/** The connections of one pair, or undefined when the pair has no line. */
function conn(lines: string[], src: string, dst: string): string | undefined {
  const prefix = `${src} => ${dst} : `;
  return lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
}

test('without any NetworkPolicy every pair, External included, has All Connections', () => {
  assert.deepEqual(connlist(apps), [
    `${EXT} => ${DB} : All Connections`,
    `${EXT} => ${WEB} : All Connections`,
    `${DB} => ${EXT} : All Connections`,
    `${DB} => ${WEB} : All Connections`,
    `${WEB} => ${EXT} : All Connections`,
    `${WEB} => ${DB} : All Connections`,
  ]);
});

test('a policy selecting every pod for Ingress with no rules denies all ingress', () => {
  const lines = connlist(apps + policy('deny', '  podSelector: {}\n  policyTypes: [Ingress]'));
  assert.deepEqual(lines, [`${DB} => ${EXT} : All Connections`, `${WEB} => ${EXT} : All Connections`]);
});

test('without policyTypes a policy restricts Ingress, and Egress only when it has egress rules', () => {
  const ingressOnly = connlist(apps + policy('p', '  podSelector: {matchLabels: {app: db}}\n  egress: []'));
  assert.equal(conn(ingressOnly, WEB, DB), undefined);
  assert.equal(conn(ingressOnly, DB, EXT), 'All Connections');
  const both = connlist(apps + policy('p', '  podSelector: {matchLabels: {app: db}}\n  egress:\n  - ports: [{port: 53, protocol: UDP}]'));
  assert.equal(conn(both, WEB, DB), undefined);
  assert.equal(conn(both, DB, EXT), 'UDP 53');
});

test('pods no policy selects stay unrestricted', () => {
  const lines = connlist(apps + policy('db', '  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress, Egress]'));
  assert.equal(conn(lines, EXT, WEB), 'All Connections');
  assert.equal(conn(lines, WEB, EXT), 'All Connections');
  assert.equal(conn(lines, WEB, DB), undefined);
});

test('policies selecting the same pod allow the union of their rules', () => {
  const from = '    - podSelector: {matchLabels: {app: web}}';
  const lines = connlist(
    apps +
      policy('a', `  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n${from}\n    ports: [{port: 5432}]`) +
      policy('b', `  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n${from}\n    ports: [{port: 53, protocol: UDP}]`),
  );
  assert.equal(conn(lines, WEB, DB), 'TCP 5432,UDP 53');
});

test('a connection needs both the egress of the source and the ingress of the destination', () => {
  const lines = connlist(
    apps +
      policy('out', '  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 1, endPort: 6000}]') +
      policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 5432, endPort: 5440}, {port: 8080}]'),
  );
  assert.equal(conn(lines, WEB, DB), 'TCP 5432-5440');
  assert.equal(conn(lines, WEB, EXT), 'TCP 1-6000');
});

test('port with endPort allows the whole range', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 8000, endPort: 8010, protocol: SCTP}]'));
  assert.equal(conn(lines, WEB, DB), 'SCTP 8000-8010');
});

test('a port entry without a port allows every port of its protocol', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{protocol: UDP}]'));
  assert.equal(conn(lines, WEB, DB), 'UDP 1-65535');
});

test('an ingress named port resolves against the container ports of the selected pod', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {}\n  ingress:\n  - ports: [{port: pg}, {port: http}]'));
  assert.equal(conn(lines, WEB, DB), 'TCP 5432');
  assert.equal(conn(lines, DB, WEB), 'TCP 8080');
});

test('a named port whose container port has another protocol allows nothing', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: dns, protocol: TCP}]'));
  assert.equal(conn(lines, WEB, DB), undefined);
  const udp = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: dns, protocol: UDP}]'));
  assert.equal(conn(udp, WEB, DB), 'UDP 53');
});

test('an egress named port resolves against the container ports of the destination', () => {
  const lines = connlist(
    apps + policy('out', '  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {}}]\n    ports: [{port: pg}]'),
  );
  assert.equal(conn(lines, WEB, DB), 'TCP 5432');
  assert.equal(conn(lines, WEB, EXT), undefined);
});

test('an ipBlock with except cuts the address space, and only the ranges it holds are allowed', () => {
  const lines = connlist(
    apps +
      policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]'),
  );
  const sourcesToDb = lines.filter((l) => l.endsWith(`=> ${DB} : All Connections`)).map((l) => l.split(' => ')[0]);
  assert.deepEqual(sourcesToDb, [
    '10.0.0.0-10.0.255.255[External]',
    '10.2.0.0-10.255.255.255[External]',
  ]);
  const sourcesToWeb = lines.filter((l) => l.endsWith(`=> ${WEB} : All Connections`) && l.includes('[External] =>'));
  assert.equal(sourcesToWeb.length, 5);
  assert.equal(conn(lines, WEB, DB), undefined);
  assert.equal(conn(lines, DB, EXT), 'All Connections');
});

test('the address space is cut at the first address and just past the last of every block', () => {
  assert.deepEqual(cutAddressSpace([{ first: 10, last: 19 }, { first: 15, last: 0xffffffff }]), [
    { first: 0, last: 9 },
    { first: 10, last: 14 },
    { first: 15, last: 19 },
    { first: 20, last: 0xffffffff },
  ]);
  assert.deepEqual(cutAddressSpace([]), [{ first: 0, last: 0xffffffff }]);
});

test('a podSelector peer matches pods of the own namespace of the policy only', () => {
  const yaml =
    apps +
    deployment('web', { app: 'web' }, [], 'other') +
    policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]');
  const lines = connlist(yaml);
  assert.equal(conn(lines, WEB, DB), 'All Connections');
  assert.equal(conn(lines, 'other/web[Deployment]', DB), undefined);
});

test('a namespaceSelector peer matches pods of namespaces whose labels it selects', () => {
  const yaml =
    apps +
    namespace('team', { env: 'prod' }) +
    deployment('api', { app: 'api' }, [], 'team') +
    deployment('job', { app: 'job' }, [], 'batch') +
    policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {env: prod}}}]');
  const lines = connlist(yaml);
  assert.equal(conn(lines, 'team/api[Deployment]', DB), 'All Connections');
  assert.equal(conn(lines, 'batch/job[Deployment]', DB), undefined);
  assert.equal(conn(lines, WEB, DB), undefined);
});

test('every namespace carries its kubernetes.io/metadata.name label', () => {
  const yaml =
    apps +
    deployment('job', { app: 'job' }, [], 'batch') +
    policy('in', "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {'kubernetes.io/metadata.name': batch}}}]");
  const lines = connlist(yaml);
  assert.equal(conn(lines, 'batch/job[Deployment]', DB), 'All Connections');
  assert.equal(conn(lines, WEB, DB), undefined);
});

test('a rule without from admits every source, External included', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 5432}]'));
  assert.equal(conn(lines, EXT, DB), 'TCP 5432');
  assert.equal(conn(lines, WEB, DB), 'TCP 5432');
});

test('selector peers never match External ranges', () => {
  const lines = connlist(apps + policy('in', '  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{namespaceSelector: {}}]'));
  assert.equal(conn(lines, EXT, DB), undefined);
  assert.equal(conn(lines, WEB, DB), 'All Connections');
});

test('a workload never has a line to itself', () => {
  const lines = connlist(apps);
  assert.ok(lines.every((l) => !l.startsWith(`${WEB} => ${WEB}`) && !l.startsWith(`${DB} => ${DB}`)));
});
