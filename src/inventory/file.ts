// Palisade's own inventory file: the workloads, namespaces, nodes and services of an environment
// written by hand or by a script (YAML or JSON). Turns the parsed value into the model's Inventory;
// every wrong field becomes a diagnostic at its position, and reading goes on past it.

import type { AddressLease, Namespace, Node, Service, Workload } from '../model/workload.js';
import { canonicalIp } from '../model/address.js';
import { deriveService } from './service.js';
import {
  checkKeys,
  isPlain,
  optLabels,
  optList,
  optString,
  report,
  reqString,
  wrongType,
  type PathSeg,
  type Plain,
  type ReadInventory,
  type Reader,
} from './read.js';

const TOP_KEYS = ['workloads', 'namespaces', 'nodes', 'services'] as const;
const WORKLOAD_KEYS = ['id', 'name', 'namespace', 'kind', 'labels', 'node', 'image', 'service', 'addresses'] as const;
const LEASE_KEYS = ['ip', 'since', 'until'] as const;
const NAMESPACE_KEYS = ['name', 'labels'] as const;
const NODE_KEYS = ['name', 'addresses', 'labels'] as const;
const SERVICE_KEYS = ['name', 'namespace', 'selector', 'ports', 'clusterIPs'] as const;
const SERVICE_PORT_KEYS = ['name', 'protocol', 'port', 'targetPort'] as const;
const TRANSPORTS = ['tcp', 'udp', 'sctp'] as const;

/** Whether a parsed file looks like Palisade's format rather than something else. */
export function isInventoryFile(value: unknown): value is Plain {
  return isPlain(value) && TOP_KEYS.some((k) => k in value);
}

/** An ISO 8601 date-time with an explicit zone, so a lease means the same instant everywhere. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function readTime(r: Reader, obj: Plain, key: 'since' | 'until', segs: readonly PathSeg[]): string | undefined {
  const raw = obj[key];
  // YAML turns an unquoted timestamp into a Date; take it back as the instant it names.
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? undefined : raw.toISOString();
  const text = optString(r, obj, key, segs);
  if (text === undefined) return undefined;
  if (!ISO_TIME.test(text) || Number.isNaN(Date.parse(text))) {
    report(r, [...segs, key], 'bad-time', `${key} "${text}" is not an ISO 8601 time with a zone`, 'write e.g. 2024-05-01T12:00:00Z');
    return undefined;
  }
  return new Date(Date.parse(text)).toISOString();
}

function readIp(r: Reader, text: string, segs: readonly PathSeg[]): string | undefined {
  const ip = canonicalIp(text.trim());
  if (ip === undefined) report(r, segs, 'bad-address', `"${text}" is not an IP address`);
  return ip;
}

function readLease(r: Reader, value: unknown, segs: readonly PathSeg[]): AddressLease | undefined {
  if (typeof value === 'string') {
    const ip = readIp(r, value, segs);
    return ip === undefined ? undefined : { ip };
  }
  if (!isPlain(value)) {
    wrongType(r, segs, 'an IP address or {ip, since, until}', value);
    return undefined;
  }
  checkKeys(r, value, LEASE_KEYS, segs);
  const text = reqString(r, value, 'ip', segs);
  const ip = text === undefined ? undefined : readIp(r, text, [...segs, 'ip']);
  const since = readTime(r, value, 'since', segs);
  const until = readTime(r, value, 'until', segs);
  if (since !== undefined && until !== undefined && since >= until) {
    report(r, [...segs, 'until'], 'bad-time', `the lease ends (${until}) before it starts (${since})`);
    return undefined;
  }
  if (ip === undefined) return undefined;
  const lease: AddressLease = { ip };
  if (since !== undefined) lease.since = since;
  if (until !== undefined) lease.until = until;
  return lease;
}

/** A list entry that must be a mapping with only the given keys; undefined (reported) otherwise. */
function entry(r: Reader, value: unknown, keys: readonly string[], segs: readonly PathSeg[]): Plain | undefined {
  if (!isPlain(value)) {
    wrongType(r, segs, 'a mapping', value);
    return undefined;
  }
  checkKeys(r, value, keys, segs);
  return value;
}

/** A list of IP addresses, each canonical; bad entries are reported and left out. */
function readIpList(r: Reader, obj: Plain, key: string, segs: readonly PathSeg[]): string[] {
  const ips: string[] = [];
  optList(r, obj, key, segs).forEach((a, i) => {
    const at = [...segs, key, i];
    if (typeof a !== 'string') return wrongType(r, at, 'an IP address', a);
    const ip = readIp(r, a, at);
    if (ip !== undefined) ips.push(ip);
  });
  return ips;
}

function readNamespace(r: Reader, value: unknown, segs: readonly PathSeg[]): Namespace | undefined {
  const fields = entry(r, value, NAMESPACE_KEYS, segs);
  if (fields === undefined) return undefined;
  const name = reqString(r, fields, 'name', segs);
  const labels = optLabels(r, fields, 'labels', segs);
  return name === undefined ? undefined : { name, labels };
}

function readNode(r: Reader, value: unknown, segs: readonly PathSeg[]): Node | undefined {
  const fields = entry(r, value, NODE_KEYS, segs);
  if (fields === undefined) return undefined;
  const name = reqString(r, fields, 'name', segs);
  const addresses = readIpList(r, fields, 'addresses', segs);
  const labels = fields['labels'] === undefined ? undefined : optLabels(r, fields, 'labels', segs);
  if (name === undefined) return undefined;
  return labels === undefined ? { name, addresses } : { name, addresses, labels };
}

function readPortNumber(r: Reader, value: unknown, segs: readonly PathSeg[]): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return value;
  report(r, segs, 'schema', `port must be a number from 1 to 65535`);
  return undefined;
}

function readService(r: Reader, value: unknown, segs: readonly PathSeg[]): Service | undefined {
  const fields = entry(r, value, SERVICE_KEYS, segs);
  if (fields === undefined) return undefined;
  const name = reqString(r, fields, 'name', segs);
  const namespace = optString(r, fields, 'namespace', segs) ?? 'default';
  const selector = optLabels(r, fields, 'selector', segs);
  const ports: Service['ports'] = [];
  optList(r, fields, 'ports', segs).forEach((item, i) => {
    const at = [...segs, 'ports', i];
    const written = entry(r, item, SERVICE_PORT_KEYS, at);
    if (written === undefined) return;
    const protoText = (optString(r, written, 'protocol', at) ?? 'tcp').toLowerCase();
    const protocol = TRANSPORTS.find((t) => t === protoText);
    if (protocol === undefined) report(r, [...at, 'protocol'], 'schema', `protocol must be one of ${TRANSPORTS.join(', ')}`);
    const port = readPortNumber(r, written['port'], [...at, 'port']);
    if (protocol === undefined || port === undefined) return;
    const servicePort: Service['ports'][number] = { protocol, port };
    const portName = optString(r, written, 'name', at);
    if (portName !== undefined) servicePort.name = portName;
    const target = written['targetPort'];
    if (typeof target === 'number' || typeof target === 'string') servicePort.targetPort = target;
    ports.push(servicePort);
  });
  const clusterIPs = readIpList(r, fields, 'clusterIPs', segs);
  return name === undefined ? undefined : { name, namespace, selector, ports, clusterIPs };
}

function readWorkload(r: Reader, value: unknown, segs: readonly PathSeg[], services: readonly Service[]): Workload | undefined {
  const fields = entry(r, value, WORKLOAD_KEYS, segs);
  if (fields === undefined) return undefined;
  const name = reqString(r, fields, 'name', segs);
  const namespace = optString(r, fields, 'namespace', segs) ?? 'default';
  const labels = optLabels(r, fields, 'labels', segs);
  const addresses: AddressLease[] = [];
  optList(r, fields, 'addresses', segs).forEach((a, i) => {
    const lease = readLease(r, a, [...segs, 'addresses', i]);
    if (lease !== undefined) addresses.push(lease);
  });
  const id = optString(r, fields, 'id', segs);
  const kind = optString(r, fields, 'kind', segs) ?? 'Pod';
  const node = optString(r, fields, 'node', segs) ?? '';
  const image = optString(r, fields, 'image', segs) ?? '';
  const service = optString(r, fields, 'service', segs);
  if (name === undefined) return undefined;
  return {
    id: id ?? `${namespace}/${name}`,
    name,
    namespace,
    kind,
    labels,
    node,
    image,
    service: service ?? deriveService(namespace, labels, services, name),
    addresses,
  };
}

function readEach<T>(r: Reader, top: Plain, key: string, read: (value: unknown, segs: PathSeg[]) => T | undefined, at: PathSeg[][] = []): T[] {
  const out: T[] = [];
  optList(r, top, key, []).forEach((v, i) => {
    const item = read(v, [key, i]);
    if (item === undefined) return;
    out.push(item);
    at.push([key, i]);
  });
  return out;
}

export function readInventoryFile(r: Reader, top: Plain): ReadInventory {
  checkKeys(r, top, TOP_KEYS, []);
  const namespaces = readEach(r, top, 'namespaces', (v, s) => readNamespace(r, v, s));
  const nodes = readEach(r, top, 'nodes', (v, s) => readNode(r, v, s));
  const services = readEach(r, top, 'services', (v, s) => readService(r, v, s));
  const workloadAt: PathSeg[][] = [];
  const workloads = readEach(r, top, 'workloads', (v, s) => readWorkload(r, v, s, services), workloadAt);
  return { inventory: { workloads, namespaces, nodes, services }, workloadAt };
}
