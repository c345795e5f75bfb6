// A private rsyslogd for the syslog sink tests: its own config, work dir, pid file and loopback
// ports; it writes what it receives with a template that keeps the parsed RFC 5424 fields and the
// structured data. Stopped by its PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Rsyslog {
  udpPort: number;
  tcpPort: number;
  /** Lines received so far: "VERSION HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG". */
  lines(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls until `done` holds, at most `attempts` times; false if it never did. */
export async function eventually(done: () => boolean | Promise<boolean>, attempts = 100, everyMs = 100): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

/** Prepares an rsyslogd on free loopback ports; start() launches it and waits until both inputs answer. */
export async function rsyslog(): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'pal-rsyslog-'));
  const out = join(dir, 'received.log');
  const udpPort = await freeUdpPort();
  const tcpPort = await freeTcpPort();
  const config = join(dir, 'rsyslog.conf');
  writeFileSync(
    config,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imudp")',
      'module(load="imtcp")',
      'template(name="palisade" type="string" string="%protocol-version% %hostname% %app-name% %procid% %msgid% %structured-data% %msg%\\n")',
      `ruleset(name="palisade") { action(type="omfile" file="${out}" template="palisade") }`,
      `input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="palisade")`,
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="palisade")`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const lines = (): string[] => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '' && !l.includes(' probe ')) : []);
  const probeSeen = (): boolean => existsSync(out) && readFileSync(out, 'utf8').includes(' probe ');

  return {
    udpPort,
    tcpPort,
    lines,
    async start() {
      child = spawn('rsyslogd', ['-n', '-f', config, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
      const udp = createSocket('udp4');
      const probe = Buffer.from('<134>1 - test probe - probe - ready');
      const ready = await eventually(() => {
        udp.send(probe, udpPort, '127.0.0.1');
        return probeSeen();
      });
      udp.close();
      if (!ready || !(await eventually(() => canConnect(tcpPort)))) throw new Error('rsyslogd did not come up');
    },
    async stop() {
      const c = child;
      if (c?.pid === undefined || c.exitCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      process.kill(c.pid, 'SIGTERM');
      await exited;
    },
  };
}
