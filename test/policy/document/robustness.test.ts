import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parsePolicyText } from '../../../src/policy/document/load.js';

const apps = { knownApplications: ['Redis'] };

function wellFormed(diagnostics: ReturnType<typeof parsePolicyText>['diagnostics']): void {
  for (const d of diagnostics) {
    assert.ok(d.line >= 1 && d.col >= 1, JSON.stringify(d));
    assert.match(d.code, /^[a-z]+(-[a-z]+)*$/);
  }
}

test('arbitrary text never throws and every diagnostic has a position', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      wellFormed(parsePolicyText(text, 'f.yaml', apps).diagnostics);
    }),
  );
});

// Values shaped like documents, with every field name the formats know and random contents, so
// the readers see wrong types in every place the schema guards.
const FIELDS = [
  'apiVersion', 'kind', 'metadata', 'name', 'spec', 'mode', 'groups', 'rules', 'id', 'from', 'to', 'ports',
  'applications', 'action', 'priority', 'source', 'disabled', 'comment', 'selectors', 'labels', 'namespace',
  'namespaceLabels', 'service', 'image', 'node', 'address', 'fqdn', 'prefix', 'suffix', 'toTarget', 'fromTarget',
  '__proto__', 'constructor',
];
const leaf = fc.oneof(
  fc.constantFrom('palisade.dev/v1', 'v1', 'Policy', 'Group', 'Rule', 'allow', 'deny', 'tcp/80', 'app=web', 'any', 'web', 'Redis', '10.0.0.0/8'),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 5 }),
  ),
}));

test('documents of any shape never throw and every diagnostic has a position', () => {
  const head = fc.record({
    apiVersion: fc.constantFrom('palisade.dev/v1', 'v1'),
    kind: fc.constantFrom('Policy', 'Group', 'Rule', undefined),
  });
  fc.assert(
    fc.property(head, fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }), (h, body) => {
      const doc: Record<string, unknown> = { ...body, apiVersion: h.apiVersion };
      if (h.kind !== undefined) doc['kind'] = h.kind;
      wellFormed(parsePolicyText(stringify(doc), 'f.yaml', apps).diagnostics);
    }),
    { numRuns: 300 },
  );
});

test('an alias bomb is refused instead of expanded', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 12; i++) lines.push(`${'b'.repeat(i)}: &${'a'.repeat(i + 1)} [${Array(10).fill(`*${'a'.repeat(i)}`).join(', ')}]`);
  const { diagnostics } = parsePolicyText(lines.join('\n'), 'bomb.yaml', apps);
  assert.deepEqual(diagnostics.map((d) => d.code), ['yaml-syntax']);
});
