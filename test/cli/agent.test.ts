// `palisade agent` argument handling that needs no root: what is refused before anything is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../support/cli.js';

test('a bad --events configuration is refused with the field named, before any ruleset is applied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-agent-'));
  try {
    const config = join(dir, 'events.yaml');
    writeFileSync(config, 'sinks:\n  - type: syslog\n    host: 127.0.0.1\n    port: abc\n');
    const r = await run(['agent', '--policy', 'examples/shop/policy', '--inventory', 'examples/shop/inventory.yaml', '--netns', 'pal-no-such-ns', '--events', config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /port/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreadable --events file is a usage error naming it', async () => {
  const r = await run(['agent', '--policy', 'examples/shop/policy', '--inventory', 'examples/shop/inventory.yaml', '--events', '/nonexistent/events.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--events \/nonexistent\/events\.yaml/);
});
