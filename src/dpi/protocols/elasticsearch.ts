// Elasticsearch REST API, carried by HTTP: refines an HTTP session when the request names an
// Elasticsearch endpoint ("/_search", "/_cluster/health", "/_bulk", ...) or carries an Elastic
// client header, or when the server identifies itself (X-elastic-product, the root tagline).

import type { FlowMeta } from '../../model/flow.js';
import type { Direction, ProbeContext, ProbeResult, ProtocolModule } from '../types.js';
import { parseHead, type HttpHead } from './http.js';

/** Path segments of the REST API: every Elasticsearch endpoint other than "/" has one. */
const ENDPOINTS = /^\/(?:[^/?#\s]*\/)*_(?:search|msearch|bulk|doc|create|update|count|mapping|mappings|settings|alias|aliases|cluster|cat|nodes|tasks|ingest|snapshot|security|xpack|license|ilm|index_template|template|component_template|data_stream|refresh|flush|forcemerge|reindex|update_by_query|delete_by_query|analyze|field_caps|mget|scripts|sql|async_search|rollover|stats|segments|recovery|shard_stores|validate|explain|termvectors|pit|eql|ml|transform|watcher|ccr|enrich|rank_eval|render|search_shards|open|close|shrink|split|clone|freeze|unfreeze|resolve|features|migration|health_report|query|knn_search|terms_enum|graph|rollup|searchable_snapshots|slm|autoscaling|fleet|logstash|monitoring|application|connector|inference|synonyms|query_rules|text_structure|esql)(?:[/?#]|$)/;

function requestSays(head: HttpHead): boolean {
  if (head.headers.has('x-elastic-client-meta')) return true;
  return head.target !== undefined && ENDPOINTS.test(head.target);
}

function responseSays(head: HttpHead, raw: Buffer): boolean {
  if (head.headers.get('x-elastic-product')?.toLowerCase() === 'elasticsearch') return true;
  // The root endpoint of servers before 7.14 only says who it is in its body.
  return raw.indexOf('"You Know, for Search"', 0, 'latin1') >= 0 && raw.length < 65536;
}

function probe(data: Buffer, dir: Direction, ctx: ProbeContext): ProbeResult {
  const requestBytes = dir === 'c2s' ? data : ctx.other;
  const responseBytes = dir === 's2c' ? data : ctx.other;
  const request = parseHead(requestBytes);
  const response = parseHead(responseBytes);
  if (request !== undefined && requestSays(request)) return 'match';
  if (response !== undefined && responseSays(response, responseBytes)) return 'match';
  // The tagline may still arrive in the body: give up once the first 4 KB (or all) of it is in.
  if (request?.complete !== true || response?.complete !== true) return 'need-more';
  const length = Number(response.headers.get('content-length') ?? '0');
  return responseBytes.length >= Math.min(Number.isFinite(length) ? length : 0, 4096) ? 'no' : 'need-more';
}

function extract(data: Buffer, dir: Direction, _ctx: ProbeContext, meta: FlowMeta): boolean {
  if (dir === 'c2s') {
    const head = parseHead(data);
    if (head?.target === undefined) return data.length < 2048;
    const m = /\/(_[a-z_]+)/.exec(head.target);
    if (m?.[1] !== undefined) meta.elasticsearchEndpoint = m[1];
    const index = /^\/([^_/?#][^/?#]*)/.exec(head.target)?.[1];
    if (index !== undefined) meta.elasticsearchIndex = index;
    return false;
  }
  const head = parseHead(data);
  const build = /"number"\s*:\s*"([^"]{1,32})"/.exec(data.toString('latin1', 0, Math.min(data.length, 8192)))?.[1];
  if (build !== undefined) meta.elasticsearchVersion = build;
  return head?.complete !== true && data.length < 8192;
}

export const elasticsearch: ProtocolModule = {
  name: 'Elasticsearch',
  aliases: ['OpenSearch'],
  transports: ['tcp'],
  ports: [9200],
  refines: 'HTTP',
  probe,
  extract,
};
