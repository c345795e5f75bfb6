// What `kubectl get pods,namespaces,services -A -o json` prints (a List of Pod, Namespace and
// Service items; Node, ReplicaSet and Job items are used when present), read into the model's
// Inventory: each pod becomes a workload named by its owner, addressed by its pod IPs.

import type { AddressLease, Labels, Namespace, Node, Service, Workload } from '../model/workload.js';
import { canonicalIp } from '../model/address.js';
import { deriveService } from './service.js';
import { isPlain, optLabels, optList, optMap, optString, report, reqString, wrongType, type PathSeg, type Plain, type ReadInventory, type Reader } from './read.js';

const LIST_KINDS = ['List', 'PodList', 'NamespaceList', 'ServiceList', 'NodeList'];

/** Whether a parsed file is a Kubernetes list as kubectl prints it. */
export function isKubectlList(value: unknown): value is Plain {
  return isPlain(value) && typeof value['kind'] === 'string' && LIST_KINDS.includes(value['kind']) && Array.isArray(value['items']);
}

/** Characters Kubernetes uses for generated name suffixes (no vowels, so no words). */
const HASH_SUFFIX = /^(.+)-([bcdfghjklmnpqrstvwxz2456789]{5,10})$/;

interface Owner {
  kind: string;
  name: string;
}

/** `namespace/name` of the objects that own other objects (ReplicaSet → Deployment, Job → CronJob). */
type OwnerIndex = Map<string, Owner>;

function controllerOf(r: Reader, meta: Plain, segs: readonly PathSeg[]): Owner | undefined {
  const refs = optList(r, meta, 'ownerReferences', segs).filter(isPlain);
  const ref = refs.find((o) => o['controller'] === true) ?? refs[0];
  if (ref === undefined || typeof ref['kind'] !== 'string' || typeof ref['name'] !== 'string') return undefined;
  return { kind: ref['kind'], name: ref['name'] };
}

/**
 * The workload kind and name a pod's owner stands for. A ReplicaSet named `<deployment>-<hash>`
 * (the hash is also the pod's pod-template-hash label) belongs to that Deployment, even when the
 * list holds no ReplicaSet items to say so.
 */
function resolveOwner(owner: Owner | undefined, namespace: string, labels: Labels, owners: OwnerIndex): Owner | undefined {
  if (owner === undefined || owner.kind === 'Node') return undefined;
  const listed = owners.get(`${owner.kind}:${namespace}/${owner.name}`);
  if (listed !== undefined) return listed;
  if (owner.kind === 'ReplicaSet') {
    const hash = labels['pod-template-hash'];
    if (hash !== undefined && owner.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: owner.name.slice(0, -hash.length - 1) };
    const m = HASH_SUFFIX.exec(owner.name);
    if (m !== null && hash === undefined) return { kind: 'Deployment', name: m[1] as string };
  }
  return owner;
}

function podAddresses(r: Reader, status: Plain, segs: readonly PathSeg[]): string[] {
  const ips: string[] = [];
  optList(r, status, 'podIPs', segs).forEach((entry, i) => {
    const text = isPlain(entry) ? entry['ip'] : undefined;
    if (typeof text !== 'string') return wrongType(r, [...segs, 'podIPs', i], 'a mapping with an ip', entry);
    const ip = canonicalIp(text);
    if (ip === undefined) report(r, [...segs, 'podIPs', i, 'ip'], 'bad-address', `"${text}" is not an IP address`);
    else if (!ips.includes(ip)) ips.push(ip);
  });
  const single = optString(r, status, 'podIP', segs);
  if (ips.length === 0 && single !== undefined && single !== '') {
    const ip = canonicalIp(single);
    if (ip === undefined) report(r, [...segs, 'podIP'], 'bad-address', `"${single}" is not an IP address`);
    else ips.push(ip);
  }
  return ips;
}

interface NodeEntry {
  addresses: string[];
  labels?: Labels;
}

function addNodeAddress(nodes: Map<string, NodeEntry>, name: string, ip: string | undefined): void {
  const entry = nodes.get(name) ?? { addresses: [] };
  if (ip !== undefined && !entry.addresses.includes(ip)) entry.addresses.push(ip);
  nodes.set(name, entry);
}

function readPod(r: Reader, item: Plain, segs: readonly PathSeg[], services: readonly Service[], owners: OwnerIndex, nodes: Map<string, NodeEntry>): Workload | undefined {
  const meta = optMap(r, item, 'metadata', segs) ?? {};
  const metaAt = [...segs, 'metadata'];
  const name = reqString(r, meta, 'name', metaAt);
  const namespace = optString(r, meta, 'namespace', metaAt) ?? 'default';
  const labels = optLabels(r, meta, 'labels', metaAt);
  const spec = optMap(r, item, 'spec', segs) ?? {};
  const status = optMap(r, item, 'status', segs) ?? {};
  const statusAt = [...segs, 'status'];
  const containers = optList(r, spec, 'containers', [...segs, 'spec']);
  const first = containers[0];
  const image = isPlain(first) ? (optString(r, first, 'image', [...segs, 'spec', 'containers', 0]) ?? '') : '';
  const node = optString(r, spec, 'nodeName', [...segs, 'spec']) ?? '';
  const hostIp = optString(r, status, 'hostIP', statusAt);
  if (node !== '') addNodeAddress(nodes, node, hostIp === undefined ? undefined : canonicalIp(hostIp));
  const ips = podAddresses(r, status, statusAt);
  if (name === undefined) return undefined;
  const owner = resolveOwner(controllerOf(r, meta, metaAt), namespace, labels, owners);
  // A finished pod has given its address back, and a host-network pod never had one of its own:
  // its address is the node's, shared by everything on the host network.
  const phase = status['phase'];
  const holdsAddress = phase !== 'Succeeded' && phase !== 'Failed' && spec['hostNetwork'] !== true;
  const since = optString(r, status, 'startTime', statusAt);
  const addresses: AddressLease[] = holdsAddress
    ? ips.map((ip) => (since !== undefined && !Number.isNaN(Date.parse(since)) ? { ip, since: new Date(Date.parse(since)).toISOString() } : { ip }))
    : [];
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    kind: owner?.kind ?? 'Pod',
    labels,
    node,
    image,
    service: deriveService(namespace, labels, services, owner?.name ?? name),
    addresses,
  };
}

function readService(r: Reader, item: Plain, segs: readonly PathSeg[]): Service | undefined {
  const meta = optMap(r, item, 'metadata', segs) ?? {};
  const name = reqString(r, meta, 'name', [...segs, 'metadata']);
  const namespace = optString(r, meta, 'namespace', [...segs, 'metadata']) ?? 'default';
  const spec = optMap(r, item, 'spec', segs) ?? {};
  const specAt = [...segs, 'spec'];
  const selector = optLabels(r, spec, 'selector', specAt);
  const ports: Service['ports'] = [];
  for (const p of optList(r, spec, 'ports', specAt)) {
    if (!isPlain(p) || typeof p['port'] !== 'number') continue;
    const proto = typeof p['protocol'] === 'string' ? p['protocol'].toLowerCase() : 'tcp';
    if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') continue;
    const entry: Service['ports'][number] = { protocol: proto, port: p['port'] };
    if (typeof p['name'] === 'string') entry.name = p['name'];
    if (typeof p['targetPort'] === 'number' || typeof p['targetPort'] === 'string') entry.targetPort = p['targetPort'];
    ports.push(entry);
  }
  const written = optList(r, spec, 'clusterIPs', specAt);
  const texts = written.length > 0 ? written : [spec['clusterIP']];
  const clusterIPs = texts.flatMap((t) => {
    const ip = typeof t === 'string' ? canonicalIp(t) : undefined;
    return ip === undefined ? [] : [ip];
  });
  return name === undefined ? undefined : { name, namespace, selector, ports, clusterIPs };
}

function readNamespace(r: Reader, item: Plain, segs: readonly PathSeg[]): Namespace | undefined {
  const meta = optMap(r, item, 'metadata', segs) ?? {};
  const name = reqString(r, meta, 'name', [...segs, 'metadata']);
  const labels = optLabels(r, meta, 'labels', [...segs, 'metadata']);
  return name === undefined ? undefined : { name, labels };
}

function readNode(r: Reader, item: Plain, segs: readonly PathSeg[], nodes: Map<string, NodeEntry>): void {
  const meta = optMap(r, item, 'metadata', segs) ?? {};
  const name = reqString(r, meta, 'name', [...segs, 'metadata']);
  if (name === undefined) return;
  const status = optMap(r, item, 'status', segs) ?? {};
  for (const a of optList(r, status, 'addresses', [...segs, 'status'])) {
    if (!isPlain(a) || (a['type'] !== 'InternalIP' && a['type'] !== 'ExternalIP') || typeof a['address'] !== 'string') continue;
    addNodeAddress(nodes, name, canonicalIp(a['address']));
  }
  addNodeAddress(nodes, name, undefined);
  (nodes.get(name) as NodeEntry).labels = optLabels(r, meta, 'labels', [...segs, 'metadata']);
}

/** ReplicaSets owned by Deployments and Jobs owned by CronJobs, keyed by `Kind:namespace/name`. */
function indexOwners(r: Reader, items: readonly unknown[]): OwnerIndex {
  const owners: OwnerIndex = new Map();
  items.forEach((item, i) => {
    if (!isPlain(item) || (item['kind'] !== 'ReplicaSet' && item['kind'] !== 'Job')) return;
    const meta = isPlain(item['metadata']) ? item['metadata'] : {};
    const owner = controllerOf(r, meta, ['items', i, 'metadata']);
    if (owner !== undefined && typeof meta['name'] === 'string') {
      const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default';
      owners.set(`${item['kind']}:${namespace}/${meta['name']}`, owner);
    }
  });
  return owners;
}

export function readKubectlList(r: Reader, top: Plain): ReadInventory {
  const items = top['items'] as unknown[];
  const kindAt = (i: number): string | undefined => {
    const item = items[i];
    return isPlain(item) && typeof item['kind'] === 'string' ? item['kind'] : undefined;
  };
  items.forEach((item, i) => {
    if (!isPlain(item)) wrongType(r, ['items', i], 'a Kubernetes object', item);
    else if (kindAt(i) === undefined) report(r, ['items', i], 'schema', `items[${i}] has no kind`);
  });
  const owners = indexOwners(r, items);
  const services: Service[] = [];
  const namespaces: Namespace[] = [];
  const nodes = new Map<string, NodeEntry>();
  items.forEach((item, i) => {
    if (!isPlain(item)) return;
    if (kindAt(i) === 'Service') {
      const s = readService(r, item, ['items', i]);
      if (s !== undefined) services.push(s);
    } else if (kindAt(i) === 'Namespace') {
      const n = readNamespace(r, item, ['items', i]);
      if (n !== undefined) namespaces.push(n);
    } else if (kindAt(i) === 'Node') {
      readNode(r, item, ['items', i], nodes);
    }
  });
  const workloads: Workload[] = [];
  const workloadAt: PathSeg[][] = [];
  items.forEach((item, i) => {
    if (!isPlain(item) || kindAt(i) !== 'Pod') return;
    const w = readPod(r, item, ['items', i], services, owners, nodes);
    if (w === undefined) return;
    workloads.push(w);
    workloadAt.push(['items', i]);
  });
  const nodeList: Node[] = [...nodes].map(([name, e]) => (e.labels === undefined ? { name, addresses: e.addresses } : { name, addresses: e.addresses, labels: e.labels }));
  return { inventory: { workloads, namespaces, nodes: nodeList, services }, workloadAt };
}
