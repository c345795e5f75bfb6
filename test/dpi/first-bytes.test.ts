// A module's declared first bytes let the engine skip its probe: the declaration must be a
// promise the probe keeps, whatever follows the first byte and however short the input is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { protocols } from '../../src/dpi/registry.js';
import type { Direction, ProbeContext } from '../../src/dpi/types.js';

const declaring = protocols.filter((p) => p.firstBytes !== undefined);

test('some protocol modules declare their first bytes', () => {
  assert.ok(declaring.length > 10);
});

for (const p of declaring) {
  for (const dir of ['c2s', 's2c'] as const satisfies readonly Direction[]) {
    const allowed = p.firstBytes?.[dir];
    if (allowed === undefined) continue;
    test(`${p.name} answers no to ${dir} data starting with a byte it did not declare`, () => {
      const others = Array.from({ length: 256 }, (_, b) => b).filter((b) => !allowed.includes(b));
      fc.assert(
        fc.property(
          fc.constantFrom(...others),
          fc.uint8Array({ maxLength: 64 }),
          fc.uint8Array({ maxLength: 64 }),
          fc.constantFrom(...p.transports),
          fc.constantFrom(0, ...(p.ports ?? []), 40000),
          (first, rest, other, transport, serverPort) => {
            const data = Buffer.concat([Buffer.from([first]), rest]);
            const ctx: ProbeContext = { transport, clientPort: 50000, serverPort, other: Buffer.from(other) };
            assert.equal(p.probe(data, dir, ctx), 'no');
          },
        ),
        { numRuns: 300 },
      );
    });
  }
}
