import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyText } from '../../../src/policy/document/load.js';
import { formatDiagnostic } from '../../../src/policy/diagnostics.js';

const apps = { knownApplications: ['Redis', 'PostgreSQL'] };

/** Each diagnostic as `code file:line:col path: message (hint)`, in position order. */
function problems(text: string): string[] {
  return parsePolicyText(text, 'p.yaml', apps).diagnostics.map((d) => `${d.code} ${formatDiagnostic(d)}`);
}

const HEAD = 'apiVersion: palisade.dev/v1\nkind: Policy\nmetadata: {name: p}\nspec:\n';
const GROUPS = '  groups:\n  - {name: web, selectors: [app=web]}\n  - {name: db, selectors: [app=db]}\n';

test('a YAML syntax error becomes a diagnostic at its position', () => {
  assert.deepEqual(problems('apiVersion: v1\ngroups:\n  a: b\n a: c\n').slice(0, 1), [
    'yaml-syntax p.yaml:4:1: All mapping items must start at the same column',
  ]);
});

test('a duplicate YAML key is a syntax error at the second key', () => {
  assert.deepEqual(problems('apiVersion: v1\napiVersion: v1\n'), ['yaml-syntax p.yaml:2:1: Map keys must be unique']);
});

test('an alias without its anchor is a syntax error at the alias', () => {
  assert.deepEqual(problems('apiVersion: v1\ngroups: *nowhere\n'), [
    'yaml-syntax p.yaml:2:9: Unresolved alias (the anchor must be set before the alias): nowhere',
  ]);
});

test('a missing or unknown apiVersion is reported with a suggestion', () => {
  assert.deepEqual(problems('kind: Policy\n'), [
    'unknown-api-version p.yaml:1:1: missing apiVersion (use palisade.dev/v1, or v1 for the compact format)',
  ]);
  assert.deepEqual(problems('apiVersion: palisade.dev/v2\nkind: Policy\n'), [
    'unknown-api-version p.yaml:1:13 apiVersion: unknown apiVersion "palisade.dev/v2" (did you mean "palisade.dev/v1"?)',
  ]);
});

test('an unknown kind is reported with a suggestion', () => {
  assert.deepEqual(problems('apiVersion: palisade.dev/v1\nkind: Rules\nmetadata: {name: r}\n'), [
    'unknown-kind p.yaml:2:7 kind: unknown kind "Rules" (did you mean "Rule"?)',
  ]);
  assert.deepEqual(problems('apiVersion: v1\nkind: ConfigMap\n'), [
    'unknown-kind p.yaml:2:7 kind: kind "ConfigMap" of apiVersion v1 is not a policy document (use apiVersion palisade.dev/v1)',
  ]);
});

test('a document that is not a map is a schema error', () => {
  assert.deepEqual(problems('- a\n- b\n'), ['schema p.yaml:1:1: a policy document must be a map']);
});

test('schema violations point at the offending value', () => {
  assert.deepEqual(problems(`${HEAD}  mode: strict\n  rules:\n  - id: r1\n    from: any\n    to: any\n    priority: high\n`), [
    'schema p.yaml:5:9 spec.mode: "strict" is not one of discover, monitor, protect',
    'schema p.yaml:7:5 spec.rules[0]: missing required field "action"',
    'schema p.yaml:10:15 spec.rules[0].priority: must be an integer',
  ]);
});

test('a name that is not a valid group name or rule id is a schema error', () => {
  assert.deepEqual(problems(`${HEAD}  groups:\n  - {name: "web app", selectors: [app=web]}\n`), [
    'schema p.yaml:6:12 spec.groups[0].name: "web app" is not a valid name (use letters, digits, ".", "_" and "-", starting and ending with a letter or digit)',
  ]);
});

test('an unknown field is pointed at by its key with a suggestion', () => {
  assert.deepEqual(problems(`${HEAD}${GROUPS}  rules:\n  - id: r1\n    from: web\n    too: db\n    action: allow\n`), [
    'schema p.yaml:9:5 spec.rules[0]: missing required field "to"',
    'unknown-field p.yaml:11:5 spec.rules[0].too: unknown field "too" (did you mean "to"?)',
  ]);
});

test('an unknown field of the compact format is suggested from that format', () => {
  assert.deepEqual(
    problems('apiVersion: v1\ngroups:\n  a:\n    selectors: [app=a]\n    rules:\n      r:\n        toTraget: a\n        action: allow\n'),
    [
      'bad-target p.yaml:6:7 groups.a.rules.r: a rule needs toTarget (egress) or fromTarget (ingress)',
      'unknown-field p.yaml:7:9 groups.a.rules.r.toTraget: unknown field "toTraget" (did you mean "toTarget"?)',
    ],
  );
});

test('a reference to an unknown group is reported with did-you-mean', () => {
  assert.deepEqual(problems(`${HEAD}${GROUPS}  rules:\n  - {id: r1, from: web, to: [any, dbb], action: allow}\n`), [
    'unknown-group p.yaml:9:35 spec.rules[0].to[1]: unknown group "dbb" (did you mean "db"?)',
  ]);
});

test('a duplicate group name points at both definitions', () => {
  assert.deepEqual(problems(`${HEAD}${GROUPS}  - {name: web, selectors: [app=web2]}\n`), [
    'duplicate-group p.yaml:8:5 spec.groups[2]: group "web" is already defined at p.yaml:6:5',
  ]);
});

test('a duplicate rule id points at both rules and keeps only the first', () => {
  const text = `${HEAD}${GROUPS}  rules:\n  - {id: r1, from: web, to: db, action: allow}\n  - {id: r1, from: db, to: web, action: deny}\n`;
  assert.deepEqual(problems(text), ['duplicate-id p.yaml:10:5 spec.rules[1]: rule id "r1" is already used at p.yaml:9:5']);
  assert.deepEqual(parsePolicyText(text, 'p.yaml').policy.rules.map((r) => r.action), ['allow']);
});

test('defining a reserved group is refused', () => {
  assert.deepEqual(problems(`${HEAD}  groups:\n  - {name: External, selectors: [app=x]}\n`), [
    'reserved-group p.yaml:6:5 spec.groups[0]: "External" is a reserved group and cannot be defined (reserved: any, workloads, nodes, external)',
  ]);
});

test('two documents setting different default modes conflict', () => {
  assert.deepEqual(problems(`${HEAD}  mode: protect\n---\n${HEAD}  mode: monitor\n`), [
    'conflicting-mode p.yaml:11:9 spec.mode: default mode "monitor" conflicts with "protect" set at p.yaml:5:9',
  ]);
});

test('a bad port is reported at its list entry', () => {
  assert.deepEqual(problems(`${HEAD}  rules:\n  - id: r1\n    from: any\n    to: any\n    ports: [tcp/80, tcp/70000, http]\n    action: allow\n`), [
    'bad-port p.yaml:9:21 spec.rules[0].ports[1]: port 70000 in "tcp/70000" is outside 1-65535',
    'bad-port p.yaml:9:32 spec.rules[0].ports[2]: unknown protocol "http" in port "http" (use one of tcp, udp, sctp, icmp, icmpv6 or any)',
  ]);
});

test('a bad label expression is pointed at inside the selector string', () => {
  assert.deepEqual(problems(`${HEAD}  groups:\n  - name: web\n    selectors:\n    - app=web, tier=d b\n    - "env in (prod"\n`), [
    'bad-selector p.yaml:8:21 spec.groups[0].selectors[0]: "d b" is not a label value (letters, digits, "-", "_", "." inside, at most 63)',
    'bad-selector p.yaml:9:15 spec.groups[0].selectors[1]: unbalanced parenthesis in "env in (prod"',
  ]);
});

test('a bad label key in the map form is pointed at by its key', () => {
  assert.deepEqual(problems(`${HEAD}  groups:\n  - name: web\n    selectors:\n    - labels: {"-app": web}\n`), [
    'bad-selector p.yaml:8:16 spec.groups[0].selectors[0].labels["-app"]: "-app" is not a label key (letters, digits, "-", "_", "." inside, at most 63)',
  ]);
});

test('bad addresses and fqdns are reported at their values', () => {
  assert.deepEqual(problems(`${HEAD}  groups:\n  - name: out\n    selectors:\n    - address: 10.0.0.300\n    - address: 10.0.0.0/8\n    - fqdn: api.*.com\n`), [
    'bad-address p.yaml:8:16 spec.groups[0].selectors[0].address: "10.0.0.300" is not an IP address, CIDR or range',
    'bad-fqdn p.yaml:10:13 spec.groups[0].selectors[2].fqdn: "api.*.com" is not a DNS name or *.suffix (a wildcard is only allowed as "*." at the start)',
  ]);
});

test('an unknown application is reported with did-you-mean over the known names', () => {
  assert.deepEqual(problems(`${HEAD}  rules:\n  - {id: r1, from: any, to: any, applications: [Redsi], action: allow}\n`), [
    'unknown-application p.yaml:6:49 spec.rules[0].applications[0]: unknown application "Redsi" (did you mean "Redis"?)',
  ]);
});

test('a group without selectors is a warning, not an error', () => {
  const { diagnostics } = parsePolicyText(`${HEAD}  groups:\n  - name: web\n`, 'p.yaml', apps);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.line, d.col]), [['empty-group', 'warning', 6, 5]]);
});

test('a rule with any problem stays out of the policy while its group stays in', () => {
  const { policy } = parsePolicyText(
    `${HEAD}  groups:\n  - {name: web, selectors: [app=web, "!x"]}\n  rules:\n  - {id: r1, from: web, to: any, ports: [tcp/0], action: allow}\n`,
    'p.yaml',
    apps,
  );
  assert.deepEqual(policy.rules, []);
  assert.deepEqual(policy.groups.filter((g) => g.name === 'web').map((g) => g.selectors.length), [1]);
});

test('every problem of every document is reported at once', () => {
  const codes = parsePolicyText(
    `apiVersion: palisade.dev/v1
kind: Group
metadata: {name: web}
spec: {selectors: ["app=web, !x"], mdoe: protect}
---
apiVersion: palisade.dev/v1
kind: Rule
metadata: {name: r1}
spec: {from: webb, to: any, ports: [tcp/99999], applications: [nope], action: permit}
---
apiVersion: v1
groups:
  any:
    selectors: [{address: 1.2.3}]
`,
    'p.yaml',
    apps,
  ).diagnostics.map((d) => `${d.line}:${d.code}`);
  assert.deepEqual(codes, [
    '4:bad-selector',
    '4:unknown-field',
    '9:unknown-group',
    '9:bad-port',
    '9:unknown-application',
    '9:schema',
    '13:reserved-group',
    '14:bad-address',
  ]);
});
