// Cilium Hubble's flow export (`hubble observe -o json`) read into Palisade's Flow records, so a
// cluster that already runs Cilium can be mapped and learned from without a capture. One Hubble
// event is one Flow; learning aggregates them. L7 fields count as DPI: Hubble's parser saw them.

import { canonicalIp } from '../model/address.js';
import type { DnsAnswer, Flow, FlowMeta, IpProto } from '../model/flow.js';

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);

/** Whether a parsed JSON line looks like a Hubble event rather than a Palisade Flow. */
export function isHubbleRecord(v: unknown): boolean {
  if (!isJson(v)) return false;
  if (isJson(v['flow'])) return true;
  return isJson(v['IP']) || (typeof v['time'] === 'string' && (isJson(v['source']) || isJson(v['l4'])));
}

interface HubbleEndpoint {
  namespace?: string;
  pod?: string;
  labels: string[];
}

function endpointOf(v: unknown): HubbleEndpoint {
  if (!isJson(v)) return { labels: [] };
  const labels = Array.isArray(v['labels']) ? v['labels'].filter((l): l is string => typeof l === 'string').slice(0, 64) : [];
  const ep: HubbleEndpoint = { labels };
  const ns = str(v['namespace']);
  const pod = str(v['pod_name']);
  if (ns !== undefined) ep.namespace = ns;
  if (pod !== undefined) ep.pod = pod;
  return ep;
}

interface L4 {
  proto: IpProto;
  src: number;
  dst: number;
}

function l4Of(v: unknown): L4 | undefined {
  if (!isJson(v)) return undefined;
  for (const [key, proto] of [['TCP', 'tcp'], ['UDP', 'udp'], ['SCTP', 'sctp']] as const) {
    const p = v[key];
    if (isJson(p)) return { proto, src: num(p['source_port']) ?? 0, dst: num(p['destination_port']) ?? 0 };
  }
  for (const [key, proto] of [['ICMPv4', 'icmp'], ['ICMPv6', 'icmpv6']] as const) {
    const p = v[key];
    if (isJson(p)) return { proto, src: 0, dst: num(p['type']) ?? 0 };
  }
  return undefined;
}

/** The L7 record as Palisade metadata and an application name, when Hubble's parser saw one. */
function l7Of(v: unknown, meta: FlowMeta): string | undefined {
  if (!isJson(v)) return undefined;
  const http = v['http'];
  if (isJson(http)) {
    const method = str(http['method']);
    const code = num(http['code']);
    const url = str(http['url']);
    if (method !== undefined) meta.httpMethod = method;
    if (code !== undefined && code > 0) meta.httpStatus = code;
    if (url !== undefined) {
      try {
        const u = new URL(url);
        meta.httpHost = u.host;
        meta.httpPath = `${u.pathname}${u.search}`;
      } catch {
        meta.httpPath = url;
      }
    }
    return 'http';
  }
  const dns = v['dns'];
  if (isJson(dns)) {
    const query = str(dns['query'])?.replace(/\.$/, '');
    if (query !== undefined) {
      meta.dnsQuery = query;
      const ttl = num(dns['ttl']) ?? 0;
      const ips = Array.isArray(dns['ips']) ? dns['ips'] : [];
      const answers: DnsAnswer[] = [];
      for (const text of ips.slice(0, 64)) {
        const ip = typeof text === 'string' ? canonicalIp(text) : undefined;
        if (ip !== undefined) answers.push({ name: query, type: ip.includes(':') ? 'AAAA' : 'A', value: ip, ttl });
      }
      if (answers.length > 0) meta.dnsAnswers = answers;
    }
    return 'dns';
  }
  const kafka = v['kafka'];
  if (isJson(kafka)) {
    const api = str(kafka['api_key']);
    const topic = str(kafka['topic']);
    if (api !== undefined) meta['kafkaApi'] = api;
    if (topic !== undefined) meta['kafkaTopic'] = topic;
    return 'kafka';
  }
  return undefined;
}

/**
 * One Hubble event (the line's object, with or without its `{"flow": ...}` wrapper) as a Flow,
 * or a message saying why it cannot be one. Replies are turned round so the client is always
 * the side that opened the connection.
 */
export function flowFromHubble(record: unknown, id: string): Flow | string {
  if (!isJson(record)) return 'not a JSON object';
  const f = isJson(record['flow']) ? record['flow'] : record;
  const ipv = f['IP'];
  if (!isJson(ipv)) return 'no IP field';
  const srcIp = typeof ipv['source'] === 'string' ? canonicalIp(ipv['source']) : undefined;
  const dstIp = typeof ipv['destination'] === 'string' ? canonicalIp(ipv['destination']) : undefined;
  if (srcIp === undefined || dstIp === undefined) return 'IP.source and IP.destination must be IP addresses';
  const time = str(f['time']) ?? str(record['time']);
  const ms = time === undefined ? Number.NaN : Date.parse(time);
  if (Number.isNaN(ms)) return 'no valid time';
  const l4 = l4Of(f['l4']) ?? { proto: 'other' as const, src: 0, dst: 0 };
  const meta: FlowMeta = {};
  const app = l7Of(f['l7'], meta);
  const verdict = str(f['verdict']);
  if (verdict !== undefined) meta['hubbleVerdict'] = verdict;
  let src = endpointOf(f['source']);
  let dst = endpointOf(f['destination']);
  let client = { ip: srcIp, port: l4.src };
  let server = { ip: dstIp, port: l4.dst };
  const reply = f['is_reply'] === true && l4.proto !== 'icmp' && l4.proto !== 'icmpv6';
  if (reply) {
    [client, server] = [server, client];
    [src, dst] = [dst, src];
  }
  if (src.labels.length > 0 || src.pod !== undefined) meta['hubbleSource'] = src;
  if (dst.labels.length > 0 || dst.pod !== undefined) meta['hubbleDestination'] = dst;
  const at = new Date(ms).toISOString();
  const flow: Flow = {
    id: str(f['uuid']) ?? id,
    firstSeen: at,
    lastSeen: at,
    ipProto: l4.proto,
    client: { ...client },
    server: { ...server },
    app: app ?? 'unknown',
    appConfidence: app === undefined ? 'none' : 'dpi',
    meta,
    c2s: { packets: reply ? 0 : 1, bytes: 0 },
    s2c: { packets: reply ? 1 : 0, bytes: 0 },
  };
  if (src.pod !== undefined && src.namespace !== undefined) flow.client.workload = `${src.namespace}/${src.pod}`;
  if (dst.pod !== undefined && dst.namespace !== undefined) flow.server.workload = `${dst.namespace}/${dst.pod}`;
  return flow;
}
