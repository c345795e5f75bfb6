import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CaptureError, runPipeline, type Session, type SessionSink } from '../../src/packet/index.js';
import { chunks, ether, ipv4, pcap, udp } from './build.js';

const CORPUS = '/work/shared/corpus/dpi';

function tsv(name: string): string[][] {
  return readFileSync(`${CORPUS}/${name}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((r) => r.split('\t'));
}

function recorder(): { sink: SessionSink; ended: Session[]; log: string[] } {
  const ended: Session[] = [];
  const log: string[] = [];
  return {
    ended,
    log,
    sink: {
      onPayload: (s, dir, data) => log.push(`${s.id} ${dir} ${data.toString('hex')}`),
      onGap: (s, dir, bytes) => log.push(`${s.id} ${dir} gap ${bytes}`),
      onEnd: (s, reason) => {
        log.push(`${s.id} end ${reason}`);
        ended.push(s);
      },
    },
  };
}

test('every corpus capture runs through the pipeline: all frames decoded or counted, every session ended', async () => {
  for (const [name, , , , packets] of tsv('pcaps.tsv')) {
    const r = recorder();
    const st = await runPipeline(`${CORPUS}/pcap/${name}`, r.sink);
    const d = st.decode;
    const dropped = Object.values(d.dropped).reduce((a, b) => a + b, 0);
    assert.equal(d.frames, Number(packets), name);
    assert.equal(d.notIp + dropped + d.ipv4 + d.ipv6, d.frames, name);
    assert.equal(r.ended.length, st.sessions.created, name);
    assert.equal(st.sessions.active, 0, name);
    assert.equal(st.sessions.bufferedBytes, 0, name);
  }
});

test('every TCP and UDP flow of the reference output is one session of ours, in one orientation or the other', async () => {
  const byPcap = new Map<string, string[][]>();
  for (const row of tsv('truth.tsv')) {
    if (row[2] !== 'TCP' && row[2] !== 'UDP') continue;
    const list = byPcap.get(row[0] as string) ?? [];
    list.push(row);
    byPcap.set(row[0] as string, list);
  }
  assert.ok(byPcap.size > 40);
  for (const [name, flows] of byPcap) {
    const r = recorder();
    await runPipeline(`${CORPUS}/pcap/${name}`, r.sink);
    const keys = new Set(r.ended.map((s) => `${s.ipProto} ${s.client.ip} ${s.client.port} ${s.server.ip} ${s.server.port}`));
    for (const [, , l4, sip, sport, dip, dport] of flows) {
      const p = (l4 as string).toLowerCase();
      const found = keys.has(`${p} ${sip} ${sport} ${dip} ${dport}`) || keys.has(`${p} ${dip} ${dport} ${sip} ${sport}`);
      assert.ok(found, `${name}: ${p} ${sip}:${sport} ${dip}:${dport}`);
    }
  }
});

test('fragmented DNS answers in the corpus are reassembled', async () => {
  const st = await runPipeline(`${CORPUS}/pcap/dns_fragmented.pcap`, recorder().sink);
  assert.equal(st.defrag.reassembled, 7);
  assert.equal(st.defrag.droppedIncomplete, 0);
});

test('a capture streamed in small chunks through a Readable gives the same events as read from its path', async () => {
  const path = `${CORPUS}/pcap/smtp-starttls.pcap`;
  const fromPath = recorder();
  await runPipeline(path, fromPath.sink);
  const fromStream = recorder();
  await runPipeline(Readable.from(chunks(readFileSync(path), 997)), fromStream.sink);
  assert.ok(fromPath.log.length > 10);
  assert.deepEqual(fromStream.log, fromPath.log);
});

test('damage after some records still ends the sessions seen so far before the CaptureError propagates', async () => {
  const good = pcap([{ ts: 1, data: ether(ipv4('10.0.0.1', '10.0.0.2', 17, udp(40000, 53, 'q'))) }]);
  const bad = Buffer.concat([good, Buffer.from('0000000000000000ffffffff00000000', 'hex')]);
  const r = recorder();
  await assert.rejects(runPipeline(chunks(bad, 8), r.sink), (e: unknown) => e instanceof CaptureError && e.offset === good.length);
  assert.deepEqual(r.log.at(-1), '1 end end-of-input');
});

const HTTP_FIXTURE = 'test/fixtures/pcap/http.pcap';

test('a recorded curl → HTTP server exchange is one session with its handshake roles, both streams and a FIN end', { skip: !existsSync(HTTP_FIXTURE) }, async () => {
  const r = recorder();
  const streams = { c2s: '', s2c: '' };
  await runPipeline(HTTP_FIXTURE, {
    onPayload: (_s, dir, data) => {
      streams[dir] += data.toString('latin1');
    },
    onEnd: r.sink.onEnd,
  });
  assert.equal(r.ended.length, 1);
  const s = r.ended[0] as Session;
  assert.deepEqual([s.ipProto, s.client.ip, s.server.ip, s.server.port, s.roleEvidence], ['tcp', '10.200.1.1', '10.200.1.2', 80, 'handshake']);
  assert.match(streams.c2s, /^GET \/[^ ]* HTTP\/1\.1\r\n/);
  assert.match(streams.s2c, /^HTTP\/1\.1 200 /);
  assert.deepEqual(r.log, ['1 end fin']);
});

const FIXTURES = 'test/fixtures/pcap';

test('every recorded fixture capture decodes all its frames and finds each TCP client from its handshake', { skip: !existsSync(FIXTURES) }, async () => {
  for (const name of readdirSync(FIXTURES).filter((f) => /\.pcap(ng)?$/.test(f))) {
    const r = recorder();
    const st = await runPipeline(`${FIXTURES}/${name}`, r.sink);
    assert.equal(st.decode.packets, st.decode.frames, name);
    for (const s of r.ended) if (s.ipProto === 'tcp') assert.equal(s.roleEvidence, 'handshake', `${name} session ${s.id}`);
  }
});
