// One of the shop's own services inside the lab (`palisade lab up` starts them): api, orders,
// payments, or the external card provider. Each is a small HTTP(S) server that does its part of a
// checkout by talking to the next service over the wire with real clients: names through the
// cluster DNS, Redis with redis-cli, PostgreSQL with psql, AMQP with amqp-tools, HTTP(S) with Node.
//
// Usage: node --import tsx scripts/lab/shop-service.ts CONFIG.json

import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface ServiceConfig {
  role: 'api' | 'orders' | 'payments' | 'provider';
  listen: { address: string; port: number };
  /** Certificate and key when this service speaks TLS. */
  tls?: { cert: string; key: string };
  /** The cluster resolver. */
  dns: string;
  /** DNS names of the services this one calls. */
  names: Partial<Record<'orders' | 'payments' | 'postgres' | 'redis' | 'broker' | 'provider', string>>;
  /** Certificates this service trusts when it calls a TLS service. */
  caFiles: string[];
  postgres?: { user: string; password: string; database: string };
  broker?: { user: string; password: string };
}

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as ServiceConfig;
const resolver = new Resolver({ timeout: 2000, tries: 2 });
resolver.setServers([config.dns]);
const ca = config.caFiles.map((f) => readFileSync(f));

function name(of: keyof ServiceConfig['names']): string {
  const n = config.names[of];
  if (n === undefined) throw new Error(`${config.role} has no name for ${of}`);
  return n;
}

/** Every call resolves the name again, as a client without a cache would: DNS is part of the traffic. */
async function resolve(of: keyof ServiceConfig['names']): Promise<string> {
  const [address] = await resolver.resolve4(name(of));
  if (address === undefined) throw new Error(`${name(of)} has no address`);
  return address;
}

async function cli(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(command, args, { timeout: 10_000, env: { ...process.env, ...env } });
  return stdout.trim();
}

/**
 * A POST with a JSON body over a fresh connection (no keep-alive: each call is its own session).
 * The Host header and the TLS server name carry the DNS name, as a client using the name would.
 */
function post(url: URL, body: unknown, serverName: string): Promise<unknown> {
  const payload = JSON.stringify(body);
  const options: https.RequestOptions = {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), host: `${serverName}:${url.port}` },
    timeout: 10_000,
  };
  return new Promise((resolvePost, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`${url.href}: ${res.statusCode} ${text}`));
        else resolvePost(JSON.parse(text) as unknown);
      });
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...options, ca, servername: serverName }, onResponse)
        : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${url.href}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function postTo(of: 'orders' | 'payments' | 'provider', port: number, path: string, body: unknown): Promise<unknown> {
  const scheme = of === 'orders' ? 'http' : 'https';
  return post(new URL(`${scheme}://${await resolve(of)}:${port}${path}`), body, name(of));
}

async function redis(args: string[]): Promise<string> {
  return cli('redis-cli', ['-h', await resolve('redis'), '-p', '6379', ...args]);
}

async function sql(statement: string): Promise<string> {
  const pg = config.postgres;
  if (pg === undefined) throw new Error(`${config.role} has no database`);
  const conninfo = `host=${await resolve('postgres')} port=5432 user=${pg.user} dbname=${pg.database} sslmode=disable application_name=shop-${config.role}`;
  return cli('psql', ['-X', '-q', '-A', '-t', conninfo, '-c', statement], { PGPASSWORD: pg.password });
}

async function amqp(command: 'amqp-publish' | 'amqp-get', args: string[]): Promise<string> {
  const b = config.broker;
  if (b === undefined) throw new Error(`${config.role} has no broker`);
  return cli(command, [`--url=amqp://${b.user}:${b.password}@${await resolve('broker')}:5672`, ...args]);
}

type Handler = (body: Record<string, unknown>) => Promise<unknown>;

const handlers: Record<ServiceConfig['role'], Record<string, Handler>> = {
  api: {
    'POST /checkout': async (body) => {
      const session = String(body.session ?? 'anonymous');
      const visits = await redis(['INCR', `shop:visits:${session}`]);
      const basket = (await redis(['GET', 'shop:catalogue:featured'])) || 'none';
      const order = await postTo('orders', 8080, '/orders', { session, item: basket, amount: 4200 });
      return { visits: Number(visits), order };
    },
    'GET /catalogue': async () => ({ featured: (await redis(['GET', 'shop:catalogue:featured'])) || 'none' }),
  },
  orders: {
    'POST /orders': async (body) => {
      const item = String(body.item ?? 'none').replace(/[^a-z0-9 -]/gi, '');
      const amount = Number(body.amount ?? 0) | 0;
      const id = await sql(`INSERT INTO orders (item, amount) VALUES ('${item}', ${amount}) RETURNING id`);
      await amqp('amqp-publish', ['--routing-key=payments', `--body=order ${id} amount ${amount}`]);
      const payment = await postTo('payments', 8443, '/charge', { order: Number(id), amount });
      return { id: Number(id), payment };
    },
  },
  payments: {
    'POST /charge': async (body) => {
      // Consumes the payment request orders queued, then charges the card at the provider.
      const request = await amqp('amqp-get', ['--queue=payments']).catch(() => 'none');
      const charge = await postTo('provider', 443, '/v1/charges', { amount: body.amount, currency: 'eur', order: body.order });
      return { request, charge };
    },
  },
  provider: {
    'POST /v1/charges': async (body) => ({ id: `ch_${Date.now().toString(36)}`, status: 'succeeded', amount: body.amount }),
  },
};

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolveBody(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

const serve: http.RequestListener = (req, res) => {
  const route = `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]}`;
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(body)}\n`);
  };
  if (route === 'GET /health') return reply(200, { role: config.role, ok: true });
  const handler = handlers[config.role][route];
  if (handler === undefined) return reply(404, { error: `no route ${route}` });
  readBody(req)
    .then(handler)
    .then((body) => reply(200, body))
    .catch((err: unknown) => {
      process.stderr.write(`${config.role}: ${route}: ${err instanceof Error ? err.message : String(err)}\n`);
      reply(502, { error: err instanceof Error ? err.message : String(err) });
    });
};

const server = config.tls === undefined
  ? http.createServer(serve)
  : https.createServer({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }, serve);
server.listen(config.listen.port, config.listen.address, () => {
  process.stdout.write(`${config.role} listening on ${config.listen.address}:${config.listen.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
