import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';

test('an unknown command exits with the usage code 2', async () => {
  const code = await main(['no-such-command']);
  assert.equal(code, 2);
});

test('--help exits 0', async () => {
  const code = await main(['--help']);
  assert.equal(code, 0);
});
