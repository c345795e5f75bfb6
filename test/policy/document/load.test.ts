import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../../src/policy/document/load.js';
import { formatDiagnostic } from '../../../src/policy/diagnostics.js';

const SHOP = 'test/fixtures/policy/shop';
const BROKEN = 'test/fixtures/policy/broken';
const apps = { knownApplications: ['Redis', 'PostgreSQL'] };

test('a directory is read whole, recursively, in sorted order, skipping hidden and other files', async () => {
  const { policy, diagnostics } = await loadPolicy([SHOP], apps);
  assert.deepEqual(diagnostics, []);
  assert.equal(policy.defaultMode, 'protect');
  assert.deepEqual(
    policy.groups.filter((g) => g.reserved !== true).map((g) => [g.name, g.pos?.file]),
    [
      ['web', join(SHOP, '00-policy.yaml')],
      ['db', join(SHOP, '00-policy.yaml')],
      ['cache', join(SHOP, 'groups/cache.yml')],
    ],
  );
  assert.deepEqual(
    policy.rules.map((r) => [r.id, r.applications, r.pos?.file, r.pos?.line]),
    [
      ['web-to-db', ['postgresql'], join(SHOP, '00-policy.yaml'), 16],
      ['web-to-cache', ['redis'], join(SHOP, 'rules/web-cache.json'), 4],
    ],
  );
});

test('a file named directly and again through its directory is read once', async () => {
  const { policy, diagnostics } = await loadPolicy([join(SHOP, '00-policy.yaml'), SHOP], apps);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(policy.rules.map((r) => r.id), ['web-to-db', 'web-to-cache']);
});

test('problems across files are all reported, each at its own file', async () => {
  const { diagnostics } = await loadPolicy([BROKEN], apps);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    `${BROKEN}/rules.yaml:7:5 spec.groups[0]: group "web" is already defined at ${BROKEN}/groups.yaml:4:9`,
    `${BROKEN}/rules.yaml:12:9 spec.rules[0].to: unknown group "extrenal" (did you mean "external"?)`,
  ]);
});

test('a path that does not exist is a diagnostic, not an exception', async () => {
  const { policy, diagnostics } = await loadPolicy(['test/fixtures/policy/no-such-file.yaml'], apps);
  assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.file, d.line, d.col]), [
    ['unreadable', 'error', 'test/fixtures/policy/no-such-file.yaml', 1, 1],
  ]);
  assert.deepEqual(policy.rules, []);
});

test('a directory without policy files is a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-empty-'));
  try {
    writeFileSync(join(dir, 'notes.md'), '# nothing here\n');
    const { diagnostics } = await loadPolicy([dir], apps);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.severity]), [['no-documents', 'warning']]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a file named directly is read whatever its extension', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ext-'));
  try {
    const file = join(dir, 'policy.txt');
    writeFileSync(file, 'apiVersion: palisade.dev/v1\nkind: Rule\nmetadata: {name: r}\nspec: {from: any, to: any, action: deny}\n');
    const { policy, diagnostics } = await loadPolicy([file], apps);
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(policy.rules.map((r) => r.id), ['r']);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
