import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Identifier } from '../../src/dpi/engine.js';
import { protocols } from '../../src/dpi/registry.js';
import type { FlowMeta } from '../../src/model/flow.js';
import type { Direction, ProbeContext, Transport } from '../../src/dpi/types.js';
import { ascii, hex } from './helpers.js';

// Adversary-controlled bytes: every probe and extractor must return one of its values and never
// throw, on random input and on valid messages with a few bytes changed, cut or extended.

const RESULTS = new Set(['match', 'no', 'need-more']);

/** Valid openings of several protocols, to mutate: structure the parsers go deep into. */
const SEEDS = [
  ascii('GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n'),
  ascii('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'),
  Buffer.concat([ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), hex('000011 01 05 00000001 8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')]),
  hex('16 0301 0031 01 00002d 0303' + '00'.repeat(32) + '00 0002 1301 0100 0008 0000 0004 0002 0001 61'),
  hex('c3 00000001 08 8394c8f03e515708 00 00 4020' + '00'.repeat(32)),
  hex('abcd 0100 0001 0000 0000 0000 03777777 076578616d706c65 03636f6d 00 0001 0001'),
  hex('abcd 8180 0001 0001 0000 0000 01610000010001 c00c 0005 0001 0000012c 0004 01620c00'),
  hex('6a 49 30 47 a1 03 02 01 05 a2 03 02 01 0a a4 3b 30 39 a0 07 03 05 0050800000 a1 12 30 10 a0 03 02 01 01 a1 09 30 07 1b 05 616c696365 a2 0d 1b 0b 4558414d504c452e434f4d'),
  hex('30 1c 02 01 01 60 17 02 01 03 04 08 636e3d61646d696e 80 06 736563726574'),
  hex('30 26 02 01 01 04 06 7075626c6963 a0 19 02 01 01 02 01 00 02 01 00 30 0e 30 0c 06 08 2b06010201010100 05 00'),
  hex('0300 002c 27 e0 0000 0000 00 436f6f6b69653a206d737473686173683d656c746f6e730d0a 01 00 0800 01000000'),
  hex('05 01 00 05 01 00 03 0b 6578616d706c652e636f6d 01bb'),
  hex('0001 0058 2112a442 b7e7a701bc34d686fa87dfae 8022 0010 5354554e207465737420636c69656e74'),
  hex('0102030405060708 0000000000000000 21 20 22 08 00000000 00000030' + '00'.repeat(20)),
];

const transports: Transport[] = ['tcp', 'udp'];
const dirs: Direction[] = ['c2s', 's2c'];

function run(data: Buffer, other: Buffer, transport: Transport, dir: Direction): void {
  const ctx: ProbeContext = { transport, clientPort: 40000, serverPort: 443, other };
  for (const p of protocols) {
    if (!p.transports.includes(transport)) continue;
    const r = p.probe(data, dir, ctx);
    assert.ok(RESULTS.has(r), `${p.name} probe returned ${String(r)}`);
    const meta: FlowMeta = {};
    const more = p.extract?.(data, dir, ctx, meta) ?? false;
    assert.equal(typeof more, 'boolean', `${p.name} extract`);
  }
}

const mutated = fc
  .record({
    seed: fc.constantFrom(...SEEDS),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    cut: fc.nat(),
    tail: fc.uint8Array({ maxLength: 16 }),
  })
  .map(({ seed, edits, cut, tail }) => {
    const b = Buffer.from(seed);
    for (const [at, v] of edits) b[at % b.length] = v;
    return Buffer.concat([b.subarray(0, cut % (b.length + 1)), Buffer.from(tail)]);
  });

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), mutated);

test('every probe and extractor returns a valid answer on random and mutated bytes', () => {
  fc.assert(
    fc.property(anyBytes, anyBytes, fc.constantFrom(...transports), fc.constantFrom(...dirs), (data, other, t, d) => {
      run(data, other, t, d);
    }),
    { numRuns: 1500 },
  );
});

test('the engine never throws and always reports a registry name or unknown', () => {
  const names = new Set(protocols.map((p) => p.name));
  fc.assert(
    fc.property(
      fc.constantFrom(...transports),
      fc.array(fc.tuple(fc.constantFrom(...dirs), anyBytes, fc.boolean()), { maxLength: 12 }),
      (t, packets) => {
        const id = new Identifier(t, 40000, 443);
        for (const [d, data, gap] of packets) {
          if (gap) id.feedGap(d);
          id.feed(d, data);
        }
        const r = id.result();
        assert.ok(r.app === 'unknown' || names.has(r.app));
        assert.ok(r.confidence !== 'dpi' || r.app !== 'unknown');
      },
    ),
    { numRuns: 500 },
  );
});
