import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { readCapture, type CaptureRecord } from '../../src/packet/index.js';
import { classifyFailure, LiveCaptureError, parseTcpdumpStats, startLiveCapture } from '../../src/packet/live.js';
import { createLab, skipReason, withLab, type Lab } from './lab-netns.js';
import { repoRoot } from '../support/corpus.js';

const skip = skipReason();

const LAB = { name: 'livecap', hosts: { client: '10.200.9.1', server: '10.200.9.2' } };
const HTTP_PORT = 8080;
/** A safety net so that a hung tcpdump or server fails the test instead of stalling CI; never a measurement. */
const E2E_TIMEOUT_MS = 60_000;

/** Source and destination of an Ethernet/IPv4 frame as dotted quads, or undefined for anything else. */
function ipv4Endpoints(frame: Buffer): { src: string; dst: string } | undefined {
  if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const addr = (at: number): string => [...frame.subarray(at, at + 4)].join('.');
  return { src: addr(26), dst: addr(30) };
}

/** Starts a tiny HTTP server in the lab's server namespace and resolves once it listens. */
async function startHttpServer(lab: Lab): Promise<void> {
  const server = lab.spawn('server', process.execPath, [
    '-e',
    `require('node:http').createServer((q, s) => s.end('palisade')).listen(${HTTP_PORT}, '${lab.address('server')}', () => console.log('listening'))`,
  ]);
  let said = '';
  for await (const chunk of server.stdout ?? []) {
    said += String(chunk);
    if (said.includes('listening')) return;
  }
  throw new Error('the HTTP server in the lab ended before listening');
}

/** The lab's client fetches from the HTTP server with Node's own fetch, and must get its body. */
async function fetchFromServer(lab: Lab): Promise<void> {
  const url = `http://${lab.address('server')}:${HTTP_PORT}/`;
  const fetched = await lab.run('client', process.execPath, ['-e', `fetch('${url}').then((r) => r.text()).then((t) => console.log(t))`]);
  assert.equal(fetched.stdout.trim(), 'palisade', `the HTTP client failed: ${fetched.stderr}`);
}

interface Collected {
  /** The raw pcap bytes, as tcpdump wrote them. */
  chunks: Buffer[];
  /** Every record, copied out of the stream's chunks. */
  records: CaptureRecord[];
  /** Settles once a packet from `from` came through. */
  replied: Promise<void>;
  /** Settles when the stream ends. */
  done: Promise<void>;
}

/**
 * Reads a live capture in the background. A test stops the capture only once the reply came
 * through: packets still in the kernel's buffer at stop time need not reach the stream.
 */
function collect(pcap: Readable, from: string): Collected {
  const chunks: Buffer[] = [];
  const records: CaptureRecord[] = [];
  let sawReply!: () => void;
  const replied = new Promise<void>((resolve) => (sawReply = resolve));
  const tee = Readable.from(
    (async function* () {
      for await (const chunk of pcap) {
        chunks.push(chunk as Buffer);
        yield chunk as Buffer;
      }
    })(),
  );
  const done = (async () => {
    for await (const record of readCapture(tee)) {
      const copy = { ...record, data: Buffer.from(record.data) };
      records.push(copy);
      if (ipv4Endpoints(copy.data)?.src === from) sawReply();
    }
  })();
  return { chunks, records, replied, done };
}

function waitForExit(pid: number): Promise<boolean> {
  // A zombie is gone for our purpose: it holds no capture and no socket.
  const alive = (): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  return new Promise((resolve) => {
    let tries = 0;
    const check = (): void => {
      if (!alive()) resolve(true);
      else if (++tries > 150) resolve(false);
      else setTimeout(check, 100);
    };
    check();
  });
}

test('tcpdump statistics are read from what it prints when it stops', () => {
  const stderr = 'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n12 packets captured\n14 packets received by filter\n2 packets dropped by kernel\n';
  assert.deepEqual(parseTcpdumpStats(stderr), { captured: 12, receivedByFilter: 14, droppedByKernel: 2 });
});

test('tcpdump statistics accept the singular form and the interface drop count', () => {
  const stderr = '1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n3 packets dropped by interface\n';
  assert.deepEqual(parseTcpdumpStats(stderr), { captured: 1, receivedByFilter: 1, droppedByKernel: 0, droppedByInterface: 3 });
});

test('a tcpdump that printed no counters yields no statistics', () => {
  assert.equal(parseTcpdumpStats('tcpdump: listening on eth0, link-type EN10MB (Ethernet)\n'), undefined);
});

test('a tcpdump complaint about a missing device becomes a no-such-interface error naming it', () => {
  const err = classifyFailure('tcpdump: nosuch0: No such device exists\n(SIOCGIFHWADDR: No such device)\n', { interface: 'nosuch0', netns: 'pal-x' });
  assert.equal(err.kind, 'no-such-interface');
  assert.match(err.message, /no interface "nosuch0" in network namespace "pal-x"/);
});

test('a tcpdump complaint about the filter becomes a bad-filter error quoting it', () => {
  const err = classifyFailure("tcpdump: can't parse filter expression: syntax error\n", { interface: 'eth0', filter: 'tcp prot 80' });
  assert.equal(err.kind, 'bad-filter');
  assert.match(err.message, /"tcp prot 80"/);
});

test('a missing tcpdump program is a missing-program error before anything runs', async () => {
  await assert.rejects(startLiveCapture({ interface: 'eth0', tcpdump: 'pal-no-such-tcpdump' }), (err: unknown) => {
    assert.ok(err instanceof LiveCaptureError);
    assert.equal(err.kind, 'missing-program');
    assert.match(err.message, /pal-no-such-tcpdump not found/);
    return true;
  });
});

test('a network namespace that does not exist is a no-such-namespace error', async () => {
  await assert.rejects(startLiveCapture({ interface: 'eth0', netns: 'pal-no-such-namespace' }), (err: unknown) => {
    assert.ok(err instanceof LiveCaptureError);
    assert.equal(err.kind, 'no-such-namespace');
    assert.match(err.message, /"pal-no-such-namespace" does not exist/);
    return true;
  });
});

test('a snaplen beyond what tcpdump accepts is a bad-option error', async () => {
  await assert.rejects(startLiveCapture({ interface: 'eth0', snaplen: 1_000_000 }), (err: unknown) => {
    assert.ok(err instanceof LiveCaptureError);
    assert.equal(err.kind, 'bad-option');
    return true;
  });
});

test('a live capture in a namespace streams the HTTP exchange both ways and stop() reports tcpdump\'s counts', { skip, timeout: E2E_TIMEOUT_MS }, async () => {
  await withLab(LAB, async (lab) => {
    await startHttpServer(lab);
    const client = lab.address('client');
    const server = lab.address('server');
    const capture = await startLiveCapture({ interface: lab.interface, netns: lab.namespace('client'), filter: `tcp port ${HTTP_PORT}` });
    const seen = collect(capture.pcap, server);
    await fetchFromServer(lab);
    await seen.replied;
    const stats = await capture.stop();
    await seen.done;

    const all = Buffer.concat(seen.chunks);
    assert.equal(all.readUInt32LE(0), 0xa1b2c3d4, 'classic pcap magic, microsecond timestamps, little-endian');
    assert.equal(all.readUInt32LE(20), 1, 'link type Ethernet');
    const endpoints = seen.records.map((r) => ipv4Endpoints(r.data));
    assert.ok(endpoints.some((e) => e?.src === client && e.dst === server), 'a packet from the client to the server');
    assert.ok(endpoints.some((e) => e?.src === server && e.dst === client), 'a packet from the server to the client');
    assert.equal(stats.captured, seen.records.length, 'tcpdump counted exactly the records in the stream');
    assert.ok(stats.receivedByFilter >= stats.captured);
    assert.equal(stats.droppedByKernel, 0);
  });
});

test('a capture on the node bridge sees the traffic between two hosts', { skip, timeout: E2E_TIMEOUT_MS }, async () => {
  await withLab(LAB, async (lab) => {
    await startHttpServer(lab);
    const capture = await startLiveCapture({ interface: lab.node.bridge, netns: lab.node.namespace, filter: `tcp port ${HTTP_PORT}` });
    const seen = collect(capture.pcap, lab.address('server'));
    await fetchFromServer(lab);
    await seen.replied;
    await capture.stop();
    await seen.done;
    const first = seen.records[0];
    assert.ok(first !== undefined);
    assert.deepEqual(ipv4Endpoints(first.data), { src: lab.address('client'), dst: lab.address('server') }, 'the SYN from client to server crossed the bridge');
  });
});

test('stopping a capture nobody reads still ends tcpdump and reports its counts', { skip, timeout: E2E_TIMEOUT_MS }, async () => {
  await withLab(LAB, async (lab) => {
    const capture = await startLiveCapture({ interface: lab.interface, netns: lab.namespace('client') });
    const stats = await capture.stop();
    assert.equal(typeof stats.captured, 'number');
    assert.deepEqual(await capture.stop(), stats, 'a second stop() gives the same result');
  });
});

test('an interface missing from an existing namespace is a no-such-interface error', { skip, timeout: E2E_TIMEOUT_MS }, async () => {
  await withLab(LAB, async (lab) => {
    await assert.rejects(startLiveCapture({ interface: 'pal-none0', netns: lab.namespace('client') }), (err: unknown) => {
      assert.ok(err instanceof LiveCaptureError);
      assert.equal(err.kind, 'no-such-interface');
      assert.match(err.message, /"pal-none0" in network namespace "pal-livecap-client"/);
      return true;
    });
  });
});

test('a filter tcpdump cannot compile is a bad-filter error', { skip, timeout: E2E_TIMEOUT_MS }, async () => {
  await withLab(LAB, async (lab) => {
    await assert.rejects(startLiveCapture({ interface: lab.interface, netns: lab.namespace('client'), filter: 'tcp prot 80' }), (err: unknown) => {
      assert.ok(err instanceof LiveCaptureError);
      assert.equal(err.kind, 'bad-filter');
      return true;
    });
  });
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`tcpdump does not outlive a process that started it and was ended by ${signal}`, { skip, timeout: E2E_TIMEOUT_MS }, async () => {
    const lab = await createLab(LAB);
    let owner: ChildProcess | undefined;
    try {
      const live = pathToFileURL(join(repoRoot, 'src/packet/live.ts')).href;
      const program = [
        `import { startLiveCapture } from ${JSON.stringify(live)};`,
        // A filter nothing matches: tcpdump never writes, so a broken pipe cannot be what ends it.
        `const capture = await startLiveCapture({ interface: 'eth0', netns: ${JSON.stringify(lab.namespace('client'))}, filter: 'udp port 9' });`,
        'capture.pcap.resume();',
        'console.log(capture.pid);',
        'setInterval(() => {}, 1 << 30);',
      ].join('\n');
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      owner = proc;
      let said = '';
      for await (const chunk of proc.stdout) {
        said += String(chunk);
        if (said.includes('\n')) break;
      }
      const pid = Number(said.trim());
      assert.ok(Number.isInteger(pid) && pid > 0, `the capturing process printed no tcpdump pid: ${said}`);
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /tcpdump/);
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
      assert.ok(await waitForExit(pid), `tcpdump ${pid} still runs after its owner died`);
    } finally {
      if (owner?.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
      await lab.destroy();
    }
  });
}
