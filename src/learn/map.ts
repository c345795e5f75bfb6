// The service graph as a map: nodes grouped into clusters (namespaces, nodes, external), edges
// labelled with what they carry and, against a policy, coloured by verdict. The text formats
// (JSON, Graphviz DOT, Mermaid) are written here; the SVG with its own layout is in svg.ts.

import type { EdgeVerdict, Peer, ServiceGraph } from './graph.js';

export interface MapNode {
  id: string;
  label: string;
  kind: Peer['kind'];
  /** Namespace for services; `nodes` or `external` otherwise. */
  cluster: string;
}

export interface MapEdge {
  from: string;
  to: string;
  /** Applications identified, else the server ports. */
  label: string;
  flows: number;
  bytes: number;
  firstSeen: string;
  lastSeen: string;
  /** The worst verdict among the edge's flows, when a policy was given. */
  status?: EdgeVerdict;
  verdicts?: Record<EdgeVerdict, number>;
}

export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
  clusters: string[];
  window: { start: string; end: string } | undefined;
}

export const VERDICT_COLOURS: Record<EdgeVerdict | 'none', string> = {
  allowed: '#2e7d32',
  violation: '#e67700',
  blocked: '#c62828',
  none: '#5c6b7a',
};

function clusterOf(p: Peer): string {
  if (p.kind === 'service') return p.namespace ?? 'default';
  return p.kind === 'node' ? 'nodes' : 'external';
}

function edgeLabel(ports: Iterable<{ proto: string; port: number; apps: Map<string, number> }>): string {
  const list = [...ports];
  const apps = [...new Set(list.flatMap((u) => [...u.apps.keys()]))].sort();
  if (apps.length > 0) return apps.slice(0, 3).join(', ') + (apps.length > 3 ? ` +${apps.length - 3}` : '');
  const named = list.map((u) => `${u.proto}/${u.port === 0 ? 'any' : u.port}`).sort();
  return named.slice(0, 3).join(', ') + (named.length > 3 ? ` +${named.length - 3}` : '');
}

function worst(v: Record<EdgeVerdict, number>): EdgeVerdict {
  return v.blocked > 0 ? 'blocked' : v.violation > 0 ? 'violation' : 'allowed';
}

export function serviceMap(graph: ServiceGraph): ServiceMap {
  const nodes: MapNode[] = [...graph.peers.values()]
    .map((p) => ({ id: p.key, label: p.name, kind: p.kind, cluster: clusterOf(p) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const edges: MapEdge[] = graph.edges.map((e) => {
    const m: MapEdge = {
      from: e.from,
      to: e.to,
      label: edgeLabel(e.ports.values()),
      flows: e.flows,
      bytes: e.bytes,
      firstSeen: new Date(e.firstSeen).toISOString(),
      lastSeen: new Date(e.lastSeen).toISOString(),
    };
    if (e.verdicts !== undefined) {
      m.verdicts = { ...e.verdicts };
      m.status = worst(e.verdicts);
    }
    return m;
  });
  const names = [...new Set(nodes.map((n) => n.cluster))];
  // Namespaces first (alphabetical), then the nodes, then the outside world.
  const rank = (c: string): number => (c === 'external' ? 2 : c === 'nodes' ? 1 : 0);
  const clusters = names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const window = graph.flows > 0 ? { start: new Date(graph.start).toISOString(), end: new Date(graph.end).toISOString() } : undefined;
  return { nodes, edges, clusters, window };
}

export function mapJson(map: ServiceMap): string {
  return `${JSON.stringify(map, null, 2)}\n`;
}

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function mapDot(map: ServiceMap): string {
  const out = ['digraph palisade {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  map.clusters.forEach((c, i) => {
    out.push(`  subgraph cluster_${i} {`, `    label=${dotString(c)};`, '    style="rounded,filled"; fillcolor="#f3f6f9";');
    for (const n of map.nodes.filter((n) => n.cluster === c)) out.push(`    ${dotString(n.id)} [label=${dotString(n.label)}${n.kind === 'external' ? ', shape=ellipse' : ''}];`);
    out.push('  }');
  });
  for (const e of map.edges) {
    const colour = VERDICT_COLOURS[e.status ?? 'none'];
    out.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotString(`${e.label} (${e.flows})`)}, color=${dotString(colour)}, fontcolor=${dotString(colour)}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** Mermaid needs plain ids; labels go in quotes with its own escape for the quote character. */
const mermaidText = (s: string): string => `"${s.replace(/"/g, '#quot;')}"`;

export function mapMermaid(map: ServiceMap): string {
  const ids = new Map(map.nodes.map((n, i) => [n.id, `n${i}`]));
  const out = ['flowchart LR'];
  map.clusters.forEach((c, i) => {
    out.push(`  subgraph c${i}[${mermaidText(c)}]`);
    for (const n of map.nodes.filter((n) => n.cluster === c)) {
      const id = ids.get(n.id) as string;
      out.push(n.kind === 'external' ? `    ${id}([${mermaidText(n.label)}])` : `    ${id}[${mermaidText(n.label)}]`);
    }
    out.push('  end');
  });
  map.edges.forEach((e) => out.push(`  ${ids.get(e.from)} -->|${mermaidText(`${e.label} (${e.flows})`)}| ${ids.get(e.to)}`));
  map.edges.forEach((e, i) => {
    if (e.status !== undefined) out.push(`  linkStyle ${i} stroke:${VERDICT_COLOURS[e.status]},color:${VERDICT_COLOURS[e.status]}`);
  });
  return `${out.join('\n')}\n`;
}
