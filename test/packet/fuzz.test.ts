import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { CaptureError, CaptureParser, PacketPipeline, decodeFrame, type CaptureRecord } from '../../src/packet/index.js';
import { emptyCaptureStats } from '../../src/packet/capture.js';
import { ACK, SYN, ether, ipv4, tcp, udp } from './build.js';
import { run } from './run.js';

const CORPUS = '/work/shared/corpus/dpi/pcap';
const LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276];

function records(file: string): CaptureRecord[] {
  const out: CaptureRecord[] = [];
  const p = new CaptureParser();
  p.push(readFileSync(`${CORPUS}/${file}`), (r) => out.push({ ...r, data: Buffer.from(r.data) }));
  p.end();
  return out;
}

/** Real frames of many kinds: TCP with handshakes, UDP, IPv6, ICMP, fragments, SLL, BSD null. */
const REAL = ['android.pcap', 'dns_fragmented.pcap', 'smtp-starttls.pcap', 'icmp-tunnel.pcap', 'rtsp.pcap', 'pgsql2.pcapng', 'doq.pcapng'].flatMap(records);

test('decoding random bytes as any link type never throws', () => {
  fc.assert(
    fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), (lt, bytes) => {
      const r = decodeFrame(Buffer.from(bytes), lt);
      assert.ok(typeof r === 'string' || typeof r === 'object');
    }),
    { numRuns: 3000 },
  );
});

test('decoding mutated real frames never throws', () => {
  fc.assert(
    fc.property(fc.constantFrom(...REAL), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (rec, flips, cut) => {
      const data = Buffer.from(rec.data);
      for (const [at, v] of flips) data[at % data.length] = v;
      decodeFrame(data.subarray(0, data.length - (cut % (data.length + 1))), rec.linkType);
    }),
    { numRuns: 3000 },
  );
});

const MAGICS = [
  Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex'),
  Buffer.from('a1b23c4d000200040000000000000000000400000000000001', 'hex').subarray(0, 24),
  Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'),
];

test('random bytes after a valid capture header either parse or raise a CaptureError, in any chunking', () => {
  fc.assert(
    fc.property(fc.constantFrom(...MAGICS), fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (magic, body, size) => {
      const input = Buffer.concat([magic, Buffer.from(body)]);
      const p = new CaptureParser();
      let n = 0;
      try {
        for (let i = 0; i < input.length; i += size) p.push(input.subarray(i, i + size), () => n++);
        p.end();
      } catch (e) {
        assert.ok(e instanceof CaptureError, String(e));
        assert.ok(e.offset >= 0 && e.offset <= input.length);
      }
      assert.ok(n <= input.length / 12);
    }),
    { numRuns: 2000 },
  );
});

const CAPS = {
  sessions: { maxSessions: 16, maxBufferedTotal: 4096, maxBufferedPerDirection: 1024, maxSegmentsPerDirection: 8, deliverBytes: 2048 },
  defrag: { maxBytes: 8192, maxDatagrams: 4, maxFragmentsPerDatagram: 8 },
};

test('mutated real traffic through the whole pipeline never throws and never exceeds its caps', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...REAL), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })), { minLength: 1, maxLength: 120 }),
      (picked) => {
        let ended = 0;
        const pipeline = new PacketPipeline({ onPayload: () => undefined, onEnd: () => void ended++ }, CAPS);
        let ts = 0;
        for (const [rec, flips] of picked) {
          const data = Buffer.from(rec.data);
          for (const [at, v] of flips) data[at % data.length] = v;
          ts += 1000;
          pipeline.record({ ...rec, data, ts });
          const st = pipeline.stats(emptyCaptureStats());
          assert.ok(pipeline.table.size <= CAPS.sessions.maxSessions);
          assert.ok(st.sessions.bufferedBytes <= CAPS.sessions.maxBufferedTotal);
          assert.ok(st.defrag.bytes <= CAPS.defrag.maxBytes && st.defrag.pending <= CAPS.defrag.maxDatagrams);
        }
        pipeline.finish();
        const st = pipeline.stats(emptyCaptureStats());
        assert.equal(ended, st.sessions.created);
        assert.equal(st.sessions.bufferedBytes, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test('any segmentation, order and duplication of a TCP stream reassembles to the original bytes', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
      (bytes, sizes, isn, rand) => {
        const stream = Buffer.from(bytes);
        const segs: [number, Buffer][] = [];
        for (let at = 0, i = 0; at < stream.length; i++) {
          const len = sizes[i % sizes.length] as number;
          segs.push([at, stream.subarray(at, at + len)]);
          at += len;
        }
        // Shuffle and duplicate some segments.
        const order = [...segs, ...segs.filter(() => (rand.next().value as number) < 0.2)];
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.min(i, Math.floor((rand.next().value as number) * (i + 1)));
          [order[i], order[j]] = [order[j] as [number, Buffer], order[i] as [number, Buffer]];
        }
        const frames: [number, Buffer][] = [[0, ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000, 80, isn, 0, SYN)))]];
        for (const [off, data] of order) {
          frames.push([frames.length, ether(ipv4('10.0.0.1', '10.0.0.2', 6, tcp(40000, 80, (isn + 1 + off) >>> 0, 0, ACK, data)))]);
        }
        const r = run(frames, { sessions: { maxSegmentsPerDirection: 1000, maxBufferedPerDirection: 1 << 20 } });
        assert.equal(r.stream(1, 'c2s'), stream.toString('latin1'));
      },
    ),
    { numRuns: 300 },
  );
});

test('any fragmentation and order of an IPv4 datagram reassembles to the original payload', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 1400 }), fc.integer({ min: 1, max: 60 }), fc.array(fc.nat(), { maxLength: 200 }), (body, units, perm) => {
      const dgram = udp(40000, 40001, Buffer.from(body));
      const step = units * 8;
      const frags: Buffer[] = [];
      for (let off = 0; off < dgram.length; off += step) {
        const part = dgram.subarray(off, off + step);
        frags.push(ether(ipv4('10.0.0.1', '10.0.0.2', 17, part, { id: 9, mf: off + step < dgram.length, fragOffset: off })));
      }
      for (let i = 0; i < Math.min(perm.length, frags.length); i++) {
        const j = (perm[i] as number) % frags.length;
        [frags[i], frags[j]] = [frags[j] as Buffer, frags[i] as Buffer];
      }
      const r = run(frags.map((f, i) => [i, f]), { defrag: { maxFragmentsPerDatagram: 200 } });
      assert.equal(r.stream(1, 'c2s'), Buffer.from(body).toString('latin1'));
    }),
    { numRuns: 300 },
  );
});
