// Identification measured against the third-party reference corpus (../shared/corpus/dpi): the
// issue's goals, at least 95% agreement on supported protocols and no protocol claimed for a
// payload-less flow, must hold.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, type Agreement } from '../../scripts/dpi-agreement.js';
import { corpus } from '../support/corpus.js';

const { dir, missing } = corpus('dpi', 'truth.tsv');

describe('identification on the reference corpus', { skip: missing }, () => {
  let result: Agreement | undefined;
  const run = async (): Promise<Agreement> => (result ??= await evaluate(dir));

  test('agrees with the reference on at least 95% of flows of supported protocols', async () => {
    const a = await run();
    assert.ok(a.flows >= 150, `only ${a.flows} flows scored`);
    assert.ok(a.rate >= 95, `agreement ${a.rate.toFixed(1)}%`);
  });

  test('claims no protocol for the payload-less flows of a SYN scan', async () => {
    const a = await run();
    assert.ok(a.scanPayloadless > 1900);
    assert.equal(a.scanClaimed, 0);
  });

  test('finds every flow the reference lists', async () => {
    assert.equal((await run()).missing, 0);
  });
});
