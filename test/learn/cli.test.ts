import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../src/policy/document/load.js';

const F = 'test/fixtures/learn';

function palisade(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/palisade.ts', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('palisade learn writes a loadable policy to --output and says which services are ready to protect', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'palisade-cli-')), 'learned.yaml');
  const r = palisade('learn', `${F}/flows.jsonl`, '--inventory', `${F}/inventory.yaml`, '--output', out, '--stable-after', '20m');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /shop\.db: ready to protect/);
  assert.match(r.stderr, /shop\.web: still learning/);
  const { diagnostics } = await loadPolicy([out]);
  assert.deepEqual(diagnostics, []);
  assert.match(readFileSync(out, 'utf8'), /^# Proposed by palisade learn/);
});

test('palisade learn reports each malformed line with file and line, and the count skipped', () => {
  const r = palisade('learn', `${F}/damaged.jsonl`, '--inventory', `${F}/inventory.yaml`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /damaged\.jsonl:2: skipped: not valid JSON/);
  assert.match(r.stderr, /damaged\.jsonl:3: skipped: client\.ip must be an IP address/);
  assert.match(r.stderr, /damaged\.jsonl: 2 malformed line\(s\) skipped/);
});

test('palisade learn exits 2 naming an input that cannot be read', () => {
  const r = palisade('learn', `${F}/missing.jsonl`, '--inventory', `${F}/inventory.yaml`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /missing\.jsonl/);
});

test('palisade learn exits 2 on a duration it cannot read', () => {
  const r = palisade('learn', `${F}/flows.jsonl`, '--inventory', `${F}/inventory.yaml`, '--stable-after', 'soon');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--stable-after "soon" is not a duration/);
});

test('palisade learn reads Hubble exports like any other input', () => {
  const r = palisade('learn', `${F}/hubble.jsonl`, '--inventory', `${F}/inventory.yaml`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /- id: shop\.web-to-shop\.api/);
  assert.match(r.stderr, /hubble\.jsonl: 2 malformed line\(s\) skipped/);
});

test('palisade map writes Mermaid to standard output', () => {
  const r = palisade('map', `${F}/flows.jsonl`, '--inventory', `${F}/inventory.yaml`, '--format', 'mermaid');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^flowchart LR/);
});

test('palisade map refuses an unknown format with exit 2', () => {
  const r = palisade('map', `${F}/flows.jsonl`, '--inventory', `${F}/inventory.yaml`, '--format', 'png');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format must be one of svg, dot, mermaid, json/);
});
