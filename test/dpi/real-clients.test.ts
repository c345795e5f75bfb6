import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Identifier, type Identification } from '../../src/dpi/engine.js';
import { runPipeline, type Session } from '../../src/packet/index.js';

// Real client programs (curl, openssl, OpenSSH, dig, snmpget, logger) against local servers, captured by
// fixtures/real-clients.sh: each session is found by its server port.

const capture = fileURLToPath(new URL('fixtures/real-clients.pcap', import.meta.url));

async function identifyAll(): Promise<Map<number, Identification>> {
  const byPort = new Map<number, Identification>();
  await runPipeline(capture, {
    onPayload(s: Session, dir, data) {
      if (s.ipProto !== 'tcp' && s.ipProto !== 'udp') return;
      s.user ??= new Identifier(s.ipProto, s.client.port, s.server.port);
      (s.user as Identifier).feed(dir, data);
    },
    onGap(s: Session, dir) {
      (s.user as Identifier | undefined)?.feedGap(dir);
    },
    onEnd(s: Session) {
      if (s.user instanceof Identifier) byPort.set(s.server.port, s.user.result());
    },
  });
  return byPort;
}

const sessions = identifyAll();

async function session(port: number): Promise<Identification> {
  const r = (await sessions).get(port);
  assert.ok(r !== undefined, `no session on port ${port}`);
  assert.equal(r.confidence, 'dpi');
  return r;
}

test('curl over HTTP/1.1 is HTTP with its request and the status', async () => {
  const r = await session(18080);
  assert.equal(r.app, 'HTTP');
  assert.deepEqual([r.meta.httpMethod, r.meta.httpUserAgent, r.meta.httpStatus], ['GET', 'palisade-test/1.0', 200]);
});

test('openssl s_client is TLS 1.3 with its SNI, ALPN and the server cipher', async () => {
  const r = await session(18443);
  assert.equal(r.app, 'TLS');
  assert.deepEqual([r.meta.sni, r.meta.alpn, r.meta.tlsVersion], ['svc.example.internal', ['h2'], 'TLSv1.3']);
  assert.match(String(r.meta.tlsCipher), /^TLS_/);
});

test('curl with HTTP/2 prior knowledge to nginx is HTTP2 with the decoded request', async () => {
  const r = await session(18082);
  assert.equal(r.app, 'HTTP2');
  assert.deepEqual([r.meta.httpPath, r.meta.httpUserAgent, r.meta.httpStatus], ['/x', 'h2-test', 200]);
});

test('the OpenSSH client is SSH with both identification lines', async () => {
  const r = await session(18022);
  assert.equal(r.app, 'SSH');
  assert.match(String(r.meta.sshClient), /^SSH-2\.0-OpenSSH_/);
});

test('curl as FTP, SMTP, POP3 and IMAP client is told apart by its own commands', async () => {
  assert.equal((await session(18021)).app, 'FTP');
  assert.equal((await session(18025)).app, 'SMTP');
  assert.equal((await session(18110)).app, 'POP3');
  assert.equal((await session(18143)).app, 'IMAP');
});

test('curl as LDAP and SMB client is LDAP and SMB', async () => {
  assert.equal((await session(18389)).meta.ldapOperation, 'bindRequest');
  assert.equal((await session(18445)).app, 'SMB');
});

test('curl TFTP, dig and snmpget over UDP are TFTP, DNS and SNMP with their metadata', async () => {
  assert.equal((await session(18069)).meta.tftpFile, 'boot.img');
  assert.equal((await session(18053)).meta.dnsQuery, 'www.example.com');
  assert.equal((await session(18161)).meta.snmpCommunity, 's3cret');
});

test('curl answering telnet option negotiation is Telnet', async () => {
  assert.equal((await session(18023)).app, 'Telnet');
});

test('curl through SOCKS5 and SOCKS4 proxies is SOCKS with the requested destination', async () => {
  assert.equal((await session(18180)).meta.socksTarget, 'app.example.internal:80');
  assert.equal((await session(18181)).meta.socksTarget, '10.200.0.7:8080');
});

test('logger over UDP and over TCP with octet counting is Syslog with facility and severity', async () => {
  const udp = await session(18514);
  assert.deepEqual([udp.app, udp.meta.syslogFacility, udp.meta.syslogSeverity], ['Syslog', 4, 2]);
  assert.equal((await session(18601)).meta.syslogFacility, 16);
});
