// Second step of reading a cluster from manifests: plain objects become typed namespaces,
// workloads (controllers and pods, pods grouped under their controller) and NetworkPolicies.
// Everything is validated here, once; the reachability computation trusts what it gets.

import type { Labels } from '../../model/workload.js';
import { parseCidr } from '../../model/address.js';
import { MAX_PORT, MIN_PORT, PROTOCOLS, type Protocol } from './connections.js';
import { isFields, type Fields, type ManifestObject } from './manifests.js';
import type { Problem } from './problems.js';
import { parseSelector, SELECT_ALL, type LabelSelector } from './selector.js';

/** Where an object was written and what it is called, for messages. */
export interface ObjectRef {
  file: string;
  line?: number;
  kind: string;
  namespace: string;
  name: string;
}

export function describeObject(ref: ObjectRef): string {
  return ref.kind === 'Namespace' ? `Namespace ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export interface ClusterNamespace {
  name: string;
  labels: Labels;
}

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

/** One pod (or a controller's pod template) that stands behind a workload. */
export interface WorkloadMember {
  labels: Labels;
  ref: ObjectRef;
}

/**
 * A peer of the analysis: a controller, or the pods of one controller owner, or a bare pod.
 * Its labels and ports are those of its first member: every member is taken to be alike.
 */
export interface ClusterWorkload {
  /** `namespace/name[Kind]`, the connlist spelling. */
  id: string;
  namespace: string;
  name: string;
  kind: string;
  labels: Labels;
  ports: readonly ContainerPort[];
  /** The objects behind the peer, in the order written; never empty. */
  members: [WorkloadMember, ...WorkloadMember[]];
}

/** An inclusive IPv4 range as numbers. */
export interface Ipv4Range {
  first: number;
  last: number;
}

export type PolicyPeer =
  | {
      kind: 'pods';
      field: string;
      /** Undefined: the policy's own namespace. */
      namespaceSelector?: LabelSelector;
      podSelector: LabelSelector;
    }
  /** The addresses of the cidr minus its excepts, as ascending disjoint ranges (IPv4 only). */
  | { kind: 'ipBlock'; field: string; ranges: readonly Ipv4Range[] };

export type PortSpec = { kind: 'all' } | { kind: 'range'; first: number; last: number } | { kind: 'named'; name: string };

export interface PolicyPort {
  protocol: Protocol;
  port: PortSpec;
}

export interface PolicyRule {
  field: string;
  /** Undefined: every peer (no `from`/`to`, or an empty list). */
  peers?: readonly PolicyPeer[];
  /** Undefined: every protocol and port. */
  ports?: readonly PolicyPort[];
}

export interface NetworkPolicy {
  ref: ObjectRef;
  /** Where a field of the policy is written, for messages about it found later. */
  locate: ManifestObject['locate'];
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** Effective policyTypes: listed ones, else Ingress plus Egress when egress rules exist. */
  restrictsIngress: boolean;
  restrictsEgress: boolean;
  ingress: readonly PolicyRule[];
  egress: readonly PolicyRule[];
}

export const WORKLOAD_KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'] as const;

const DEFAULT_NAMESPACE = 'default';
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Collects the problems of one object under its name. */
class ObjectProblems {
  constructor(
    private readonly problems: Problem[],
    private readonly obj: ManifestObject,
    private object: string,
  ) {}

  rename(object: string): void {
    this.object = object;
  }

  error(field: string, message: string): void {
    const at = this.obj.locate(field);
    const pos = at !== undefined ? { line: at.line, col: at.col } : this.obj.line !== undefined ? { line: this.obj.line } : {};
    this.problems.push({ severity: 'error', file: this.obj.file, ...pos, object: this.object, field, message });
  }
}

function readMetadata(obj: ManifestObject, report: ObjectProblems): { name: string; namespace: string; labels: Labels } | undefined {
  const meta = obj.body['metadata'];
  if (!isFields(meta)) {
    report.error('metadata', 'missing or not a mapping');
    return undefined;
  }
  const name = meta['name'];
  if (typeof name !== 'string' || name === '') {
    report.error('metadata.name', 'missing or not a string');
    return undefined;
  }
  const ns = meta['namespace'];
  if (ns !== undefined && ns !== null && typeof ns !== 'string') {
    report.error('metadata.namespace', 'must be a string');
    return undefined;
  }
  const namespace = typeof ns === 'string' && ns !== '' ? ns : DEFAULT_NAMESPACE;
  report.rename(obj.kind === 'Namespace' ? `Namespace ${name}` : `${obj.kind} ${namespace}/${name}`);
  const labels = readLabels(meta['labels'], 'metadata.labels', report);
  return labels === undefined ? undefined : { name, namespace, labels };
}

function readLabels(raw: unknown, field: string, report: ObjectProblems): Labels | undefined {
  if (raw === undefined || raw === null) return {};
  if (!isFields(raw)) {
    report.error(field, 'must be a mapping of label keys to values');
    return undefined;
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      report.error(`${field}.${key}`, 'a label value must be a string (quote it)');
      return undefined;
    }
    labels[key] = value;
  }
  return labels;
}

function readProtocol(raw: unknown, field: string, report: ObjectProblems): Protocol | undefined {
  if (raw === undefined || raw === null) return 'TCP';
  if (typeof raw === 'string' && (PROTOCOLS as readonly string[]).includes(raw)) return raw as Protocol;
  report.error(field, `unknown protocol ${JSON.stringify(raw)} (expected TCP, UDP or SCTP)`);
  return undefined;
}

/**
 * Ports the pod's containers declare. An entry without a numeric containerPort (a misspelt
 * field, say) can never be the target of a named port, so it is left out rather than refused.
 */
function readContainerPorts(podSpec: unknown, field: string, report: ObjectProblems): ContainerPort[] {
  const out: ContainerPort[] = [];
  if (!isFields(podSpec)) return out;
  const containers = podSpec['containers'];
  if (!Array.isArray(containers)) return out;
  containers.forEach((c: unknown, i) => {
    if (!isFields(c)) return;
    const ports = c['ports'];
    if (ports === undefined || ports === null) return;
    if (!Array.isArray(ports)) {
      report.error(`${field}.containers[${i}].ports`, 'must be a list');
      return;
    }
    ports.forEach((p: unknown, j) => {
      if (!isFields(p) || typeof p['containerPort'] !== 'number') return;
      const protocol = readProtocol(p['protocol'], `${field}.containers[${i}].ports[${j}].protocol`, report);
      if (protocol === undefined) return;
      const name = p['name'];
      out.push({ port: p['containerPort'], protocol, ...(typeof name === 'string' && name !== '' ? { name } : {}) });
    });
  });
  return out;
}

function refOf(obj: ManifestObject, kind: string, namespace: string, name: string): ObjectRef {
  return { file: obj.file, ...(obj.line !== undefined ? { line: obj.line } : {}), kind, namespace, name };
}

export function readNamespace(obj: ManifestObject, problems: Problem[]): (ClusterNamespace & { ref: ObjectRef }) | undefined {
  const report = new ObjectProblems(problems, obj, `Namespace (${obj.where})`);
  const meta = readMetadata(obj, report);
  if (meta === undefined) return undefined;
  return { name: meta.name, labels: meta.labels, ref: refOf(obj, 'Namespace', '', meta.name) };
}

/** A controller object as a peer: its pod template's labels and ports. */
export function readController(obj: ManifestObject, problems: Problem[]): ClusterWorkload | undefined {
  const report = new ObjectProblems(problems, obj, `${obj.kind} (${obj.where})`);
  const meta = readMetadata(obj, report);
  if (meta === undefined) return undefined;
  const spec = obj.body['spec'];
  let template: unknown = isFields(spec) ? spec['template'] : undefined;
  let templateField = 'spec.template';
  if (obj.kind === 'CronJob') {
    const jobSpec = isFields(spec) && isFields(spec['jobTemplate']) ? spec['jobTemplate']['spec'] : undefined;
    template = isFields(jobSpec) ? jobSpec['template'] : undefined;
    templateField = 'spec.jobTemplate.spec.template';
  }
  if (!isFields(template)) {
    report.error(templateField, 'missing: a workload needs a pod template');
    return undefined;
  }
  const templateMeta = template['metadata'];
  const labels = readLabels(isFields(templateMeta) ? templateMeta['labels'] : undefined, `${templateField}.metadata.labels`, report);
  if (labels === undefined) return undefined;
  const ports = readContainerPorts(template['spec'], `${templateField}.spec`, report);
  const ref = refOf(obj, obj.kind, meta.namespace, meta.name);
  return { id: `${meta.namespace}/${meta.name}[${obj.kind}]`, namespace: meta.namespace, name: meta.name, kind: obj.kind, labels, ports, members: [{ labels, ref }] };
}

/**
 * A pod as a peer. A pod with a controller owner (other than a Node, which owns static pods)
 * stands for that owner: `ns/owner[OwnerKind]`, `Pod` when the reference names no kind.
 */
export function readPod(obj: ManifestObject, problems: Problem[]): ClusterWorkload | undefined {
  const report = new ObjectProblems(problems, obj, `Pod (${obj.where})`);
  const meta = readMetadata(obj, report);
  if (meta === undefined) return undefined;
  const owners = isFields(obj.body['metadata']) ? obj.body['metadata']['ownerReferences'] : undefined;
  let name = meta.name;
  let kind = 'Pod';
  if (Array.isArray(owners)) {
    const owner = owners.find((o: unknown): o is Fields => isFields(o) && o['controller'] === true && o['kind'] !== 'Node');
    if (owner !== undefined) {
      if (typeof owner['name'] !== 'string' || owner['name'] === '') {
        report.error('metadata.ownerReferences', 'the controller reference has no name');
        return undefined;
      }
      name = owner['name'];
      kind = typeof owner['kind'] === 'string' && owner['kind'] !== '' ? owner['kind'] : 'Pod';
    }
  }
  const ports = readContainerPorts(obj.body['spec'], 'spec', report);
  const ref = refOf(obj, 'Pod', meta.namespace, meta.name);
  return { id: `${meta.namespace}/${name}[${kind}]`, namespace: meta.namespace, name, kind, labels: meta.labels, ports, members: [{ labels: meta.labels, ref }] };
}

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;

/** `port` (+ `endPort`) of one NetworkPolicyPort. */
function readPortSpec(entry: Fields, field: string, report: ObjectProblems): PortSpec | undefined {
  const port = entry['port'];
  const endPort = entry['endPort'];
  if (port === undefined || port === null) {
    if (endPort !== undefined && endPort !== null) {
      report.error(`${field}.endPort`, 'endPort needs a numeric port');
      return undefined;
    }
    return { kind: 'all' };
  }
  if (typeof port === 'string') {
    if (endPort !== undefined && endPort !== null) {
      report.error(`${field}.endPort`, 'endPort field cannot be defined if the port field is defined as a named (string) port');
      return undefined;
    }
    if (port.length > 15 || !IANA_SVC_NAME.test(port)) {
      report.error(`${field}.port`, `invalid named port ${JSON.stringify(port)}: 1-15 lower-case letters, digits and single '-', with at least one letter`);
      return undefined;
    }
    return { kind: 'named', name: port };
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < MIN_PORT || port > MAX_PORT) {
    report.error(`${field}.port`, `must be a port number 1-65535 or a port name, not ${JSON.stringify(port)}`);
    return undefined;
  }
  if (endPort === undefined || endPort === null) return { kind: 'range', first: port, last: port };
  if (typeof endPort !== 'number' || !Number.isInteger(endPort) || endPort < MIN_PORT || endPort > MAX_PORT) {
    report.error(`${field}.endPort`, `must be a port number 1-65535, not ${JSON.stringify(endPort)}`);
    return undefined;
  }
  if (endPort < port) {
    report.error(`${field}.endPort`, `endPort field must be equal or greater than port (${endPort} < ${port})`);
    return undefined;
  }
  return { kind: 'range', first: port, last: endPort };
}

function readPorts(raw: unknown, field: string, report: ObjectProblems): PolicyPort[] | undefined | 'invalid' {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    report.error(field, 'must be a list');
    return 'invalid';
  }
  if (raw.length === 0) return undefined;
  const out: PolicyPort[] = [];
  let valid = true;
  raw.forEach((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isFields(entry)) {
      report.error(at, 'must be a mapping with protocol and port');
      valid = false;
      return;
    }
    const protocol = readProtocol(entry['protocol'], `${at}.protocol`, report);
    const port = readPortSpec(entry, at, report);
    if (protocol === undefined || port === undefined) valid = false;
    else out.push({ protocol, port });
  });
  return valid ? out : 'invalid';
}

function cidrRange(text: unknown, field: string, report: ObjectProblems): Ipv4Range | 'ipv6' | undefined {
  const range = typeof text === 'string' ? parseCidr(text) : undefined;
  if (range === undefined) {
    report.error(field, `CIDR error: invalid CIDR address: ${typeof text === 'string' ? text : JSON.stringify(text)}`);
    return undefined;
  }
  return range.version === 4 ? { first: range.first, last: range.last } : 'ipv6';
}

/** `ranges` minus `cut`, both ascending and disjoint. */
function subtractRanges(ranges: readonly Ipv4Range[], cut: Ipv4Range): Ipv4Range[] {
  const out: Ipv4Range[] = [];
  for (const r of ranges) {
    if (cut.last < r.first || cut.first > r.last) {
      out.push(r);
      continue;
    }
    if (r.first < cut.first) out.push({ first: r.first, last: cut.first - 1 });
    if (r.last > cut.last) out.push({ first: cut.last + 1, last: r.last });
  }
  return out;
}

/**
 * An ipBlock: the cidr minus every except. IPv6 blocks contribute no ranges, because the
 * analysis reports IPv4 external peers only.
 */
function readIpBlock(raw: unknown, field: string, report: ObjectProblems): Ipv4Range[] | undefined {
  if (!isFields(raw)) {
    report.error(field, 'must be a mapping with cidr and except');
    return undefined;
  }
  const cidr = cidrRange(raw['cidr'], `${field}.cidr`, report);
  if (cidr === undefined) return undefined;
  const except = raw['except'] ?? [];
  if (!Array.isArray(except)) {
    report.error(`${field}.except`, 'must be a list of CIDRs');
    return undefined;
  }
  let ranges: Ipv4Range[] = cidr === 'ipv6' ? [] : [cidr];
  let valid = true;
  except.forEach((text: unknown, i) => {
    const cut = cidrRange(text, `${field}.except[${i}]`, report);
    if (cut === undefined) {
      valid = false;
      return;
    }
    if (cidr === 'ipv6' && cut === 'ipv6') return;
    if (cidr === 'ipv6' || cut === 'ipv6' || cut.first < cidr.first || cut.last > cidr.last) {
      report.error(`${field}.except[${i}]`, `except ${String(text)} lies outside cidr ${String(raw['cidr'])}`);
      valid = false;
      return;
    }
    ranges = subtractRanges(ranges, cut);
  });
  return valid ? ranges : undefined;
}

function readPeer(raw: unknown, field: string, report: ObjectProblems): PolicyPeer | undefined {
  if (!isFields(raw)) {
    report.error(field, 'must be a mapping with podSelector, namespaceSelector or ipBlock');
    return undefined;
  }
  const has = (key: string): boolean => raw[key] !== undefined && raw[key] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      report.error(field, 'rule NetworkPolicyPeer error: cannot have both IPBlock and PodSelector/NamespaceSelector set');
      return undefined;
    }
    const ranges = readIpBlock(raw['ipBlock'], `${field}.ipBlock`, report);
    return ranges === undefined ? undefined : { kind: 'ipBlock', field, ranges };
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    report.error(field, 'rule NetworkPolicyPeer error: cannot have empty rule peer');
    return undefined;
  }
  const pods = readSelector(raw['podSelector'], `${field}.podSelector`, report);
  const namespaces = has('namespaceSelector') ? readSelector(raw['namespaceSelector'], `${field}.namespaceSelector`, report) : SELECT_ALL;
  if (pods === undefined || namespaces === undefined) return undefined;
  return { kind: 'pods', field, podSelector: pods, ...(has('namespaceSelector') ? { namespaceSelector: namespaces } : {}) };
}

function readSelector(raw: unknown, field: string, report: ObjectProblems): LabelSelector | undefined {
  const { selector, errors } = parseSelector(raw);
  for (const e of errors) report.error(e.field === '' ? field : `${field}.${e.field}`, e.message);
  return errors.length === 0 ? selector : undefined;
}

function readRules(raw: unknown, direction: 'ingress' | 'egress', report: ObjectProblems): PolicyRule[] | undefined {
  const field = `spec.${direction}`;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report.error(field, 'must be a list of rules');
    return undefined;
  }
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  const rules: PolicyRule[] = [];
  let valid = true;
  raw.forEach((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isFields(entry)) {
      report.error(at, `must be a mapping with ${peersKey} and ports`);
      valid = false;
      return;
    }
    const ports = readPorts(entry['ports'], `${at}.ports`, report);
    const rawPeers = entry[peersKey];
    let peers: PolicyPeer[] | undefined;
    if (rawPeers !== undefined && rawPeers !== null) {
      if (!Array.isArray(rawPeers)) {
        report.error(`${at}.${peersKey}`, 'must be a list of peers');
        valid = false;
        return;
      }
      const read = rawPeers.map((p: unknown, j) => readPeer(p, `${at}.${peersKey}[${j}]`, report));
      if (read.some((p) => p === undefined)) valid = false;
      peers = read.length > 0 ? read.filter((p): p is PolicyPeer => p !== undefined) : undefined;
    }
    if (ports === 'invalid') {
      valid = false;
      return;
    }
    // A named port is resolved against the destination pod's containers; an address has none.
    const reachesAddresses = peers === undefined || peers.some((p) => p.kind === 'ipBlock');
    if (direction === 'egress' && reachesAddresses && ports?.some((p) => p.port.kind === 'named')) {
      report.error(`${at}.ports`, 'named port error: cannot convert named port for an IP destination');
      valid = false;
      return;
    }
    rules.push({ field: at, ...(peers !== undefined ? { peers } : {}), ...(ports !== undefined ? { ports } : {}) });
  });
  return valid ? rules : undefined;
}

export function readNetworkPolicy(obj: ManifestObject, problems: Problem[]): NetworkPolicy | undefined {
  const report = new ObjectProblems(problems, obj, `NetworkPolicy (${obj.where})`);
  const meta = readMetadata(obj, report);
  if (meta === undefined) return undefined;
  const spec = obj.body['spec'];
  if (!isFields(spec)) {
    report.error('spec', 'missing or not a mapping');
    return undefined;
  }
  const podSelector = readSelector(spec['podSelector'], 'spec.podSelector', report);
  const ingress = readRules(spec['ingress'], 'ingress', report);
  const egress = readRules(spec['egress'], 'egress', report);
  const types = spec['policyTypes'];
  let restrictsIngress = true;
  let restrictsEgress = Array.isArray(spec['egress']) && spec['egress'].length > 0;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.some((t) => t !== 'Ingress' && t !== 'Egress')) {
      report.error('spec.policyTypes', 'must be a list of Ingress and Egress');
      return undefined;
    }
    restrictsIngress = types.includes('Ingress');
    restrictsEgress = types.includes('Egress');
  }
  if (podSelector === undefined || ingress === undefined || egress === undefined) return undefined;
  return {
    ref: refOf(obj, 'NetworkPolicy', meta.namespace, meta.name),
    locate: obj.locate,
    namespace: meta.namespace,
    name: meta.name,
    podSelector,
    restrictsIngress,
    restrictsEgress,
    ingress,
    egress,
  };
}
