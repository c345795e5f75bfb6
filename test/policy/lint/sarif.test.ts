import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { toSarif } from '../../../src/policy/sarif.js';
import { LINT_CODES } from '../../../src/policy/lint/lint.js';
import type { Diagnostic } from '../../../src/policy/diagnostics.js';

const BASE = '/work/repo';

const diagnostic = (d: Partial<Diagnostic>): Diagnostic => ({
  code: 'shadowed-rule',
  severity: 'error',
  file: join(BASE, 'policy', 'rules.yaml'),
  line: 12,
  col: 5,
  path: 'spec.rules[3]',
  message: 'rule "b" never decides',
  ...d,
});

function log(diagnostics: Diagnostic[]) {
  return toSarif(diagnostics, { baseDir: BASE, version: '0.1.0' });
}

test('the log is SARIF 2.1.0 with one run whose driver is palisade', () => {
  const sarif = log([]);
  assert.equal(sarif.version, '2.1.0');
  assert.equal(sarif.$schema, 'https://json.schemastore.org/sarif-2.1.0.json');
  assert.equal(sarif.runs.length, 1);
  assert.equal(sarif.runs[0]?.tool.driver.name, 'palisade');
  assert.deepEqual(sarif.runs[0]?.results, []);
});

test('the driver has a rule with a description and a default level for every lint code', () => {
  const rules = log([]).runs[0]?.tool.driver.rules ?? [];
  for (const c of LINT_CODES) {
    const rule = rules.find((r) => r.id === c.code);
    assert.ok(rule, c.code);
    assert.ok(rule.shortDescription.text.length > 0);
    assert.equal(rule.defaultConfiguration.level, c.severity === 'info' ? 'note' : c.severity);
  }
  assert.ok(rules.some((r) => r.id === 'unknown-group'), 'document codes too');
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, 'one rule per code');
});

test('a result carries its rule, level, message and a region at the line and column', () => {
  const result = log([diagnostic({ hint: 'raise its priority' })]).runs[0]?.results[0];
  assert.ok(result);
  assert.equal(result.ruleId, 'shadowed-rule');
  assert.equal(log([]).runs[0]?.tool.driver.rules[result.ruleIndex]?.id, 'shadowed-rule');
  assert.equal(result.level, 'error');
  assert.equal(result.message.text, 'rule "b" never decides (raise its priority)');
  const loc = result.locations[0];
  assert.deepEqual(loc?.physicalLocation.region, { startLine: 12, startColumn: 5 });
  assert.deepEqual(loc?.logicalLocations, [{ fullyQualifiedName: 'spec.rules[3]' }]);
});

test('artifact URIs are relative to the base directory, with forward slashes and escaping', () => {
  const sarif = log([diagnostic({ file: join(BASE, 'policy dir', 'a#b.yaml') })]);
  const artifact = sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation;
  assert.deepEqual(artifact, { uri: 'policy%20dir/a%23b.yaml', uriBaseId: '%SRCROOT%' });
  assert.deepEqual(sarif.runs[0]?.originalUriBaseIds, { '%SRCROOT%': { uri: 'file:///work/repo/' } });
});

test('warnings and notes map to SARIF levels warning and note', () => {
  const results = log([diagnostic({ severity: 'warning' }), diagnostic({ severity: 'info' })]).runs[0]?.results ?? [];
  assert.deepEqual(results.map((r) => r.level), ['warning', 'note']);
});

test('a finding without a file has no location', () => {
  assert.deepEqual(log([diagnostic({ file: '' })]).runs[0]?.results[0]?.locations, []);
});

test('a code the tables do not know still gets a rule of its own', () => {
  const run = log([diagnostic({ code: 'brand-new' })]).runs[0];
  const result = run?.results[0];
  assert.equal(run?.tool.driver.rules[result?.ruleIndex ?? -1]?.id, 'brand-new');
});
