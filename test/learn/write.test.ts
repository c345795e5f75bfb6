import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Criterion, Group, PortRange, Rule } from '../../src/model/policy.js';
import { parsePolicyText } from '../../src/policy/document/load.js';
import { writePolicyText } from '../../src/policy/document/write.js';

// What the writer emits reads back to the same groups and rules (the policy's own reader is the reference).
const word = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,10}[A-Za-z0-9])?$/);
const tricky = fc.constantFrom('true', 'false', 'null', 'yes', 'no', 'on', '123', '1e3', '0x1F', '1.5', 'y', 'N', 'v1');
const value = fc.oneof(word, tricky);
const key = fc.oneof(word, fc.constantFrom('app.kubernetes.io/name', 'k8s-app', 'example.com/tier'));

const criterion: fc.Arbitrary<Criterion> = fc.oneof(
  fc.record({ key, v: value }).map(({ key, v }): Criterion => ({ kind: 'label', req: { key, op: 'eq', values: [v] } })),
  fc.record({ key, v: value }).map(({ key, v }): Criterion => ({ kind: 'label', req: { key, op: 'neq', values: [v] } })),
  key.map((k): Criterion => ({ kind: 'label', req: { key: k, op: 'exists', values: [] } })),
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/).map((name): Criterion => ({ kind: 'namespace', name })),
  value.map((name): Criterion => ({ kind: 'service', name })),
  fc.constantFrom('10.0.0.1', '10.0.0.0/8', 'fd00::/64').map((spec): Criterion => ({ kind: 'address', spec })),
  fc.constantFrom('api.example.com', '*.example.org').map((pattern): Criterion => ({ kind: 'fqdn', pattern })),
);

/** The document format holds one criterion of each kind but labels per selector (they are keys of one mapping). */
const selector = fc.array(criterion, { minLength: 1, maxLength: 4 }).map((cs) => cs.filter((c, i) => c.kind === 'label' ? cs.findIndex((d) => d.kind === 'label' && d.req.key === c.req.key) === i : cs.findIndex((d) => d.kind === c.kind) === i));

const port: fc.Arbitrary<PortRange> = fc.oneof(
  fc.record({ proto: fc.constantFrom('tcp' as const, 'udp' as const), first: fc.integer({ min: 1, max: 65535 }) }).map(({ proto, first }) => ({ proto, first, last: first })),
  fc.record({ proto: fc.constantFrom('tcp' as const, 'udp' as const), a: fc.integer({ min: 1, max: 65535 }), b: fc.integer({ min: 1, max: 65535 }) }).map(({ proto, a, b }) => ({ proto, first: Math.min(a, b), last: Math.max(a, b) })),
  fc.constant<PortRange>({ proto: 'icmp', first: 8, last: 8 }),
  fc.constant<PortRange>({ proto: 'tcp' }),
);

test('a written policy reads back to the same groups, selectors, modes and rules', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9.-]{0,8}[a-z0-9]$/), { minLength: 1, maxLength: 4 }), fc.array(selector, { minLength: 4, maxLength: 4 }), fc.array(port, { maxLength: 3 }), (names, selectors, ports) => {
      const groups: Group[] = names.map((name, i) => ({ name, selectors: [{ criteria: selectors[i] as Criterion[] }], mode: i % 2 === 0 ? 'protect' : 'discover' }));
      const rules: Rule[] = names.map((name, i) => ({ id: `r${i}-${name}`, from: [name], to: [names[(i + 1) % names.length] as string], ports, applications: i % 2 === 0 ? ['http'] : [], action: 'allow', priority: i, source: 'learned', comment: `about "${name}"\nsecond line` }));
      const text = writePolicyText({ name: 'p', header: ['a header', 'two: lines'], mode: 'monitor', groups: groups.map((group) => ({ group, notes: ['note: with # and "quotes"'] })), rules: rules.map((rule) => ({ rule })) });
      const { policy, diagnostics } = parsePolicyText(text, 'p.yaml', { knownApplications: ['http'] });
      assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
      assert.equal(policy.defaultMode, 'monitor');
      const read = policy.groups.filter((g) => g.reserved !== true);
      assert.deepEqual(read.map((g) => g.name), names);
      read.forEach((g, i) => {
        assert.equal(g.mode, groups[i]?.mode);
        const sortC = (cs: Criterion[]): string[] => cs.map((c) => JSON.stringify(c)).sort();
        assert.deepEqual(sortC(g.selectors[0]?.criteria ?? []), sortC(groups[i]?.selectors[0]?.criteria ?? []));
      });
      assert.deepEqual(
        policy.rules.map(({ pos: _, ...r }) => r),
        rules,
      );
    }),
    { numRuns: 200 },
  );
});
