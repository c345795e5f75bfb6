// The shop scenario of the lab: which pods examples/shop needs beyond its workloads, which real
// server runs in each (nginx, the shop's Node services, postgres, redis-server, rabbitmq-server,
// dnsmasq) with configuration written to the state directory, and the customers' traffic loop.

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LabWorkload } from '../../inventory/lab.js';
import { runIn, type CommandResult } from './netns.js';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SHOP_INVENTORY = join(REPO_ROOT, 'examples/shop/inventory.yaml');

export type PodRole = 'workload' | 'customer' | 'external' | 'attacker';

export interface Pod {
  /** Short name: the workload's name, or customer / provider / attacker. */
  name: string;
  /** The network namespace: pal-<name>. */
  namespace: string;
  address: string;
  role: PodRole;
  /** The inventory id of the workload the pod runs, for role "workload". */
  workload?: string;
  /** DNS names the cluster resolver answers with this pod's address. */
  dnsNames: string[];
}

export interface Server {
  /** What runs, for status and logs: "nginx", "postgres", ... */
  name: string;
  pod: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Ports that show the server is ready. */
  listen: { proto: 'tcp' | 'udp'; port: number }[];
  /** How to stop it, when SIGTERM does not. */
  stopSignal?: NodeJS.Signals;
}

/** The domain of cluster service names, as Kubernetes' DNS gives them. */
const CLUSTER_DOMAIN = 'svc.cluster.local';
/** The card processor: outside the cluster, known by name (see examples/shop/README.md). */
export const PROVIDER_NAME = 'api.stripe.example';
/** The storefront's public name, which customers look up. */
export const SHOP_NAME = 'shop.example';
const PASSWORD = 'palisade';
/** How often a customer visits, in milliseconds. */
const VISIT_INTERVAL_MS = 2000;

/** Pods that are no workload of the inventory, at addresses no workload holds. */
const EXTRA_PODS: readonly { name: string; address: string; role: PodRole; dnsNames: string[] }[] = [
  { name: 'customer', address: '10.200.8.10', role: 'customer', dnsNames: [] },
  { name: 'provider', address: '10.200.9.10', role: 'external', dnsNames: [PROVIDER_NAME] },
  { name: 'attacker', address: '10.200.66.6', role: 'attacker', dnsNames: [] },
];

/** The workloads the shop's servers need, by name in examples/shop/inventory.yaml. */
const WORKLOADS = ['web', 'api', 'orders', 'payments', 'postgres', 'redis', 'rabbitmq', 'coredns'] as const;
type ShopWorkload = (typeof WORKLOADS)[number];

export function shopPods(workloads: readonly LabWorkload[]): Pod[] {
  for (const name of WORKLOADS) {
    if (!workloads.some((w) => w.workload.name === name)) throw new Error(`the shop inventory has no workload "${name}"`);
  }
  const pods: Pod[] = workloads.map(({ workload, address }) => ({
    name: workload.name,
    namespace: `pal-${workload.name}`,
    address,
    role: 'workload',
    workload: workload.id,
    dnsNames: [`${workload.service}.${workload.namespace}.${CLUSTER_DOMAIN}`, ...(workload.name === 'web' ? [SHOP_NAME] : [])],
  }));
  for (const extra of EXTRA_PODS) pods.push({ ...extra, namespace: `pal-${extra.name}` });
  return pods;
}

function pod(pods: readonly Pod[], name: string): Pod {
  const p = pods.find((x) => x.name === name);
  if (p === undefined) throw new Error(`the lab has no pod "${name}"`);
  return p;
}

const dnsName = (pods: readonly Pod[], name: ShopWorkload): string => pod(pods, name).dnsNames[0] as string;

async function certificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', key, '-out', cert]);
  return { cert, key };
}

function postgresBin(): string {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const version = versions.find((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`));
  if (version === undefined) throw new Error('PostgreSQL server not found under /usr/lib/postgresql (Debian package postgresql)');
  return `/usr/lib/postgresql/${version}/bin`;
}

async function passwd(user: string): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', user]);
  const { stdout: g } = await run('id', ['-g', user]);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

function nodeScript(script: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'scripts/lab', script), ...args] };
}

/**
 * Writes every server's configuration under stateDir and returns the servers to start. Slow
 * preparation (initdb, certificates) happens here, before anything listens.
 */
export async function prepareShop(pods: readonly Pod[], stateDir: string): Promise<Server[]> {
  const at = (name: string): string => pod(pods, name).address;
  const coredns = at('coredns');
  const servers: Server[] = [];

  // Cluster DNS: every service name and the provider's FQDN, nothing forwarded anywhere.
  const records = pods.flatMap((p) => p.dnsNames.map((n) => `--host-record=${n},${p.address}`));
  servers.push({
    name: 'dnsmasq', pod: 'coredns', command: 'dnsmasq',
    args: ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--listen-address=${coredns}`,
      '--bind-interfaces', '--port=53', `--pid-file=${join(stateDir, 'dnsmasq.pid')}`, '--log-facility=-', ...records],
    listen: [{ proto: 'udp', port: 53 }, { proto: 'tcp', port: 53 }],
  });

  // PostgreSQL: a fresh cluster as the postgres user, password authentication over TCP.
  const pgDir = join(stateDir, 'postgres');
  const bin = postgresBin();
  await mkdir(pgDir, { recursive: true });
  await chmod(stateDir, 0o755);
  await writeFile(join(pgDir, 'pwfile'), `${PASSWORD}\n`);
  const pgUser = await passwd('postgres');
  await chown(pgDir, pgUser.uid, pgUser.gid);
  await chown(join(pgDir, 'pwfile'), pgUser.uid, pgUser.gid);
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
  await run('setpriv', [...asPostgres, join(bin, 'initdb'), '-D', join(pgDir, 'data'), '-U', 'postgres', `--pwfile=${join(pgDir, 'pwfile')}`,
    '--auth-local=trust', '--auth-host=scram-sha-256']);
  await writeFile(join(pgDir, 'data', 'pg_hba.conf'), `local all all trust\nhost all all 10.200.0.0/16 scram-sha-256\n`);
  servers.push({
    name: 'postgres', pod: 'postgres', command: 'setpriv',
    args: [...asPostgres, join(bin, 'postgres'), '-D', join(pgDir, 'data'), '-c', `listen_addresses=${at('postgres')}`, '-c', 'port=5432',
      '-c', `unix_socket_directories=${pgDir}`, '-c', 'ssl=off', '-c', 'logging_collector=off', '-c', 'shared_buffers=16MB'],
    listen: [{ proto: 'tcp', port: 5432 }],
  });

  const redisDir = join(stateDir, 'redis');
  await mkdir(redisDir, { recursive: true });
  servers.push({
    name: 'redis-server', pod: 'redis', command: 'redis-server',
    args: ['--bind', at('redis'), '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', redisDir],
    listen: [{ proto: 'tcp', port: 6379 }],
  });

  // RabbitMQ as a node of its own (name, cookie, files under stateDir): the machine's broker is not involved.
  const rabbit = join(stateDir, 'rabbitmq');
  await mkdir(join(rabbit, 'home'), { recursive: true });
  await writeFile(join(rabbit, 'env.conf'), '');
  await writeFile(join(rabbit, 'enabled_plugins'), '[].\n');
  await writeFile(join(rabbit, 'rabbitmq.conf'), `listeners.tcp.1 = ${at('rabbitmq')}:5672\nloopback_users = none\n`);
  const rabbitEnv: NodeJS.ProcessEnv = {
    ...process.env, HOME: join(rabbit, 'home'), RABBITMQ_NODENAME: 'palshop@localhost',
    RABBITMQ_CONF_ENV_FILE: join(rabbit, 'env.conf'), RABBITMQ_CONFIG_FILE: join(rabbit, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(rabbit, 'enabled_plugins'), RABBITMQ_MNESIA_BASE: join(rabbit, 'mnesia'),
    RABBITMQ_LOG_BASE: join(rabbit, 'log'), RABBITMQ_PID_FILE: join(rabbit, 'rabbit.pid'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(rabbit, 'advanced.config'),
  };
  delete rabbitEnv.ERL_FLAGS;
  // Its wrapper script waits out SIGTERM for many seconds; the broker's data is thrown away anyway.
  servers.push({
    name: 'rabbitmq-server', pod: 'rabbitmq', command: '/usr/lib/rabbitmq/bin/rabbitmq-server', args: [], env: rabbitEnv,
    listen: [{ proto: 'tcp', port: 5672 }], stopSignal: 'SIGKILL',
  });

  // The shop's own services; TLS where the inventory says so (payments, and the provider).
  const tls = join(stateDir, 'tls');
  await mkdir(tls, { recursive: true });
  const paymentsCert = await certificate(tls, dnsName(pods, 'payments'));
  const providerCert = await certificate(tls, PROVIDER_NAME);
  const names = {
    orders: dnsName(pods, 'orders'), payments: dnsName(pods, 'payments'), postgres: dnsName(pods, 'postgres'),
    redis: dnsName(pods, 'redis'), broker: dnsName(pods, 'rabbitmq'), provider: PROVIDER_NAME,
  };
  const service = async (role: 'api' | 'orders' | 'payments' | 'provider', podName: string, port: number, cert?: { cert: string; key: string }): Promise<void> => {
    const file = join(stateDir, `${role}.json`);
    await writeFile(file, JSON.stringify({
      role, listen: { address: at(podName), port }, tls: cert, dns: coredns, names,
      caFiles: [paymentsCert.cert, providerCert.cert],
      postgres: { user: 'postgres', password: PASSWORD, database: 'shop' },
      broker: { user: 'guest', password: 'guest' },
    }, null, 2));
    servers.push({ name: `shop-${role}`, pod: podName, ...nodeScript('shop-service.ts', file), listen: [{ proto: 'tcp', port }] });
  };
  await service('api', 'api', 8080);
  await service('orders', 'orders', 8080);
  await service('payments', 'payments', 8443, paymentsCert);
  await service('provider', 'provider', 443, providerCert);

  // nginx: the storefront, proxying /api/ to the api service, resolved at the cluster DNS per request.
  const nginx = join(stateDir, 'nginx');
  await mkdir(join(nginx, 'www'), { recursive: true });
  await writeFile(join(nginx, 'www', 'index.html'), '<!doctype html><title>shop</title><h1>The shop</h1>\n');
  await writeFile(join(nginx, 'nginx.conf'), `worker_processes 1;
daemon off;
user root;
pid ${nginx}/nginx.pid;
error_log ${nginx}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${nginx}/access.log;
  client_body_temp_path ${nginx}/body;
  proxy_temp_path ${nginx}/proxy;
  fastcgi_temp_path ${nginx}/fastcgi;
  uwsgi_temp_path ${nginx}/uwsgi;
  scgi_temp_path ${nginx}/scgi;
  default_type text/html;
  resolver ${coredns} valid=5s ipv6=off;
  server {
    listen ${at('web')}:8080;
    server_name ${SHOP_NAME};
    root ${nginx}/www;
    location /api/ {
      set $api ${dnsName(pods, 'api')};
      rewrite ^/api(/.*)$ $1 break;
      proxy_pass http://$api:8080;
      proxy_set_header Host $api;
    }
  }
}
`);
  servers.push({ name: 'nginx', pod: 'web', command: 'nginx', args: ['-e', join(nginx, 'error.log'), '-p', nginx, '-c', join(nginx, 'nginx.conf')], listen: [{ proto: 'tcp', port: 8080 }] });
  return servers;
}

async function mustSucceed(what: string, r: Promise<CommandResult>): Promise<void> {
  const result = await r;
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
}

/** Once the servers listen: the orders database and the payment queue exist, the catalogue is filled. */
export async function seedShop(pods: readonly Pod[], stateDir: string): Promise<void> {
  const pgDir = join(stateDir, 'postgres');
  const psql = (sql: string, db: string): Promise<CommandResult> =>
    runIn(pod(pods, 'postgres').namespace, 'setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', 'psql', '-X', '-q', '-h', pgDir, '-d', db, '-c', sql]);
  await mustSucceed('creating the shop database', psql('CREATE DATABASE shop', 'postgres'));
  await mustSucceed('creating the orders table', psql('CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, amount integer NOT NULL, at timestamptz DEFAULT now())', 'shop'));
  await mustSucceed('declaring the payments queue', runIn(pod(pods, 'rabbitmq').namespace, 'amqp-declare-queue', [`--url=amqp://guest:guest@${pod(pods, 'rabbitmq').address}:5672`, '--queue=payments']));
  await mustSucceed('filling the catalogue', runIn(pod(pods, 'redis').namespace, 'redis-cli', ['-h', pod(pods, 'redis').address, 'SET', 'shop:catalogue:featured', 'teapot']));
}

/** The customers' visits, started last, once everything they reach is ready. */
export function customerLoop(pods: readonly Pod[]): Server {
  return {
    name: 'customers', pod: 'customer',
    ...nodeScript('customer.ts', pod(pods, 'coredns').address, SHOP_NAME, '8080', String(VISIT_INTERVAL_MS)),
    listen: [],
  };
}
