import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CaptureError, CaptureParser, readCapture, type CaptureRecord, type CaptureStats } from '../../src/packet/index.js';
import { Pcapng, chunks, pcap } from './build.js';

const CORPUS = '/work/shared/corpus/dpi';

async function readAll(input: Parameters<typeof readCapture>[0]): Promise<{ records: CaptureRecord[]; stats: CaptureStats }> {
  const records: CaptureRecord[] = [];
  const it = readCapture(input);
  let r = await it.next();
  while (!r.done) {
    records.push({ ...r.value, data: Buffer.from(r.value.data) });
    r = await it.next();
  }
  return { records, stats: r.value };
}

function parseBytes(b: Buffer, chunkSize = b.length): { records: CaptureRecord[]; stats: CaptureStats } {
  const p = new CaptureParser();
  const records: CaptureRecord[] = [];
  for (let i = 0; i < b.length; i += chunkSize) p.push(b.subarray(i, i + chunkSize), (r) => records.push({ ...r, data: Buffer.from(r.data) }));
  p.end();
  return { records, stats: p.stats };
}

const A = Buffer.from('aaaaaaaaaa', 'hex');
const B = Buffer.from('bbbbbbbbbbbbbbbb', 'hex');

for (const le of [true, false]) {
  for (const nanos of [false, true]) {
    test(`a pcap file (${le ? 'little' : 'big'}-endian, ${nanos ? 'nanosecond' : 'microsecond'} magic) yields its records with times in microseconds`, () => {
      const file = pcap(
        [
          { ts: 1_700_000_000_123_456, data: A },
          { ts: 1_700_000_001_000_001, data: B, origLen: 1500 },
        ],
        { le, nanos, linkType: 113 },
      );
      const { records, stats } = parseBytes(file);
      assert.equal(stats.format, 'pcap');
      assert.deepEqual(
        records.map((r) => [r.linkType, r.ts, r.data.toString('hex'), r.origLen, r.offset]),
        [
          [113, 1_700_000_000_123_456, A.toString('hex'), A.length, 24],
          [113, 1_700_000_001_000_001, B.toString('hex'), 1500, 24 + 16 + A.length],
        ],
      );
    });
  }
}

test('records split across chunks of every size come out the same as from one chunk', () => {
  const file = pcap([1, 2, 3, 4, 5].map((i) => ({ ts: i, data: Buffer.alloc(i * 7, i) })));
  const whole = parseBytes(file).records;
  for (const size of [1, 2, 3, 5, 16, 17, 40]) assert.deepEqual(parseBytes(file, size).records, whole);
});

test('a pcap whose last record is cut short yields the whole records and counts the truncated one', () => {
  const file = pcap([
    { ts: 1, data: A },
    { ts: 2, data: B },
  ]);
  const { records, stats } = parseBytes(file.subarray(0, file.length - 3));
  assert.equal(records.length, 1);
  assert.equal(stats.truncatedRecords, 1);
});

test('a pcap record claiming an impossible length is a CaptureError at that record', () => {
  const file = pcap([{ ts: 1, data: A }]);
  const bad = Buffer.concat([file, Buffer.from('00000000000000000000ffff00000000', 'hex')]);
  assert.throws(
    () => parseBytes(bad),
    (e: unknown) => e instanceof CaptureError && e.offset === file.length,
  );
});

test('input that is neither pcap nor pcapng is a CaptureError at offset 0', () => {
  assert.throws(
    () => parseBytes(Buffer.from('GET / HTTP/1.1\r\n\r\n')),
    (e: unknown) => e instanceof CaptureError && e.offset === 0,
  );
});

test('empty input is a CaptureError', () => {
  assert.throws(() => new CaptureParser().end(), CaptureError);
});

test('pcapng interfaces keep their own link types and timestamp resolutions', () => {
  const file = new Pcapng()
    .section()
    .iface(1)
    .iface(113, 9)
    .iface(0, 0x80 | 10)
    .epb(0, 1_700_000_000_000_001n, A)
    .epb(1, 1_700_000_000_000_001_999n, B)
    .epb(2, 1024n * 5n, A)
    .bytes();
  const { records, stats } = parseBytes(file);
  assert.equal(stats.interfaces, 3);
  assert.deepEqual(
    records.map((r) => [r.linkType, r.ts, r.interfaceId]),
    [
      [1, 1_700_000_000_000_001, 0],
      [113, 1_700_000_000_000_001, 1],
      [0, 5_000_000, 2],
    ],
  );
});

test('a big-endian pcapng section is read in its own byte order', () => {
  const file = new Pcapng(false).section(false).iface(101).epb(0, 42n, A).bytes();
  const { records } = parseBytes(file);
  assert.deepEqual(
    records.map((r) => [r.linkType, r.ts, r.data.toString('hex')]),
    [[101, 42, A.toString('hex')]],
  );
});

test('a second pcapng section with the other byte order resets the interfaces', () => {
  const file = new Pcapng().section().iface(1).epb(0, 1n, A).section(false).iface(113).epb(0, 2n, B).bytes();
  const { records, stats } = parseBytes(file);
  assert.equal(stats.sections, 2);
  assert.deepEqual(
    records.map((r) => [r.linkType, r.ts]),
    [
      [1, 1],
      [113, 2],
    ],
  );
});

test('simple and obsolete pcapng packet blocks are read; unknown blocks are skipped and counted', () => {
  const file = new Pcapng()
    .section()
    .iface(1)
    .block(0x0bad, Buffer.from('custom'))
    .pb(0, 7n, A)
    .spb(B)
    .block(5, Buffer.alloc(16))
    .bytes();
  const { records, stats } = parseBytes(file);
  assert.deepEqual(
    records.map((r) => [r.data.toString('hex'), r.ts]),
    [
      [A.toString('hex'), 7],
      [B.toString('hex'), 7],
    ],
  );
  assert.equal(stats.skippedBlocks, 2);
});

test('a pcapng block with a damaged length is skipped and the reader resynchronises on the next block', () => {
  const good = new Pcapng().section().iface(1).epb(0, 1n, A).bytes();
  const damaged = new Pcapng().epb(0, 2n, B).bytes();
  damaged.writeUInt32LE(0x7ffffff1, 4);
  const after = new Pcapng().epb(0, 3n, A).bytes();
  const { records, stats } = parseBytes(Buffer.concat([good, damaged, after]), 5);
  assert.deepEqual(
    records.map((r) => r.ts),
    [1, 3],
  );
  assert.equal(stats.corruptBlocks, 1);
  assert.equal(stats.resyncBytes, damaged.length);
});

test('a pcapng packet naming an undescribed interface is skipped and counted', () => {
  const file = new Pcapng().section().iface(1).epb(3, 1n, A).epb(0, 2n, B).bytes();
  const { records, stats } = parseBytes(file);
  assert.equal(records.length, 1);
  assert.equal(stats.badRecords, 1);
});

test('readCapture streams from any async iterable of chunks', async () => {
  const file = new Pcapng().section().iface(1).epb(0, 1n, A).epb(0, 2n, B).bytes();
  const { records, stats } = await readAll(chunks(file, 3));
  assert.equal(records.length, 2);
  assert.equal(stats.bytes, file.length);
});

/** pcaps.tsv: name → packets, packet data bytes. */
function corpusCounts(): Map<string, [number, number]> {
  const rows = readFileSync(`${CORPUS}/pcaps.tsv`, 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((r) => r.split('\t')).map((c) => [c[0] as string, [Number(c[4]), Number(c[5])]]));
}

test('every corpus capture yields the packet count and packet bytes listed in pcaps.tsv', async () => {
  const expected = corpusCounts();
  assert.ok(expected.size > 40);
  for (const [name, [packets, bytes]] of expected) {
    let n = 0;
    let total = 0;
    for await (const r of readCapture(`${CORPUS}/pcap/${name}`)) {
      n++;
      total += r.data.length;
    }
    assert.deepEqual([name, n, total], [name, packets, bytes]);
  }
});

test('a pcapng section describing more than 4096 interfaces has the extra ones skipped and counted', () => {
  const w = new Pcapng().section();
  for (let i = 0; i < 4097; i++) w.iface(1);
  const { stats } = parseBytes(w.epb(0, 1n, A).bytes());
  assert.equal(stats.interfaces, 4096);
  assert.equal(stats.badRecords, 1);
});

test('pushFrames hands each record where it lies in the chunk, the same records push() gives', () => {
  const dir = `${CORPUS}/pcap`;
  for (const name of ['dns.pcap', 'quic-v2.pcapng', 'tls_ech.pcapng']) {
    const file = readFileSync(`${dir}/${name}`);
    for (const size of [file.length, 997]) {
      const viaPush = parseBytes(file, size);
      const p = new CaptureParser();
      const frames: Array<Pick<CaptureRecord, 'linkType' | 'ts' | 'data'>> = [];
      for (let i = 0; i < file.length; i += size) {
        p.pushFrames(file.subarray(i, i + size), {
          frame: (linkType, ts, bytes, at, end) => frames.push({ linkType, ts, data: Buffer.from(bytes.subarray(at, end)) }),
        });
      }
      p.end();
      assert.deepEqual(
        frames,
        viaPush.records.map((r) => ({ linkType: r.linkType, ts: r.ts, data: r.data })),
        `${name} in chunks of ${size}`,
      );
      assert.deepEqual(p.stats, viaPush.stats);
    }
  }
});
