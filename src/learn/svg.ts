// The service map drawn as SVG by Palisade itself (no Graphviz on the machines it runs on).
// Layout: columns are layers along the call direction (clients left, the services they call to
// the right), rows are bands, one per namespace (then nodes, then external); inside a band the
// order of each column is improved by barycentric sweeps so edges cross less.

import { VERDICT_COLOURS, type MapEdge, type MapNode, type ServiceMap } from './map.js';

const NODE_W = 180;
const NODE_H = 20;
const ROW_H = 26;
const COL_GAP = 170;
const LEFT = 150;
const TOP = 64;
const BAND_PAD = 10;
const MAX_LABEL = 26;
/** Above this many edges their labels are left to tooltips: text on every edge would be a blur. */
const MAX_LABELLED_EDGES = 120;

interface Placed {
  node: MapNode;
  layer: number;
  x: number;
  y: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const short = (s: string): string => (s.length <= MAX_LABEL ? s : `${s.slice(0, MAX_LABEL - 1)}…`);

/** Longest path from the callers, ignoring edges that close a cycle (found by depth-first search). */
function layers(map: ServiceMap): Map<string, number> {
  const out = new Map<string, string[]>();
  for (const n of map.nodes) out.set(n.id, []);
  for (const e of map.edges) if (e.from !== e.to) out.get(e.from)?.push(e.to);
  const state = new Map<string, 1 | 2>();
  const forward: [string, string][] = [];
  for (const root of map.nodes.map((n) => n.id)) {
    if (state.has(root)) continue;
    // Iterative DFS: a deep call chain must not overflow the stack.
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as [string, number];
      const next = (out.get(top[0]) ?? [])[top[1]++];
      if (next === undefined) {
        state.set(top[0], 2);
        stack.pop();
      } else if (!state.has(next)) {
        forward.push([top[0], next]);
        state.set(next, 1);
        stack.push([next, 0]);
      } else if (state.get(next) === 2) forward.push([top[0], next]);
    }
  }
  const layer = new Map(map.nodes.map((n) => [n.id, 0]));
  // Forward edges form a DAG; relax until no layer grows (at most |nodes| rounds).
  for (let round = 0, changed = true; changed && round < map.nodes.length; round++) {
    changed = false;
    for (const [a, b] of forward) {
      const want = (layer.get(a) as number) + 1;
      if (want > (layer.get(b) as number)) {
        layer.set(b, want);
        changed = true;
      }
    }
  }
  // External servers sit at the far right, where traffic leaves the cluster.
  const last = Math.max(0, ...layer.values());
  const isServerOnly = (id: string): boolean => !map.edges.some((e) => e.from === id);
  for (const n of map.nodes) if (n.kind === 'external' && isServerOnly(n.id)) layer.set(n.id, last);
  return layer;
}

function place(map: ServiceMap): { placed: Map<string, Placed>; bands: { cluster: string; top: number; height: number }[]; width: number; height: number } {
  const layer = layers(map);
  const columns = Math.max(1, ...[...layer.values()].map((l) => l + 1));
  const cells = new Map<string, MapNode[]>();
  const cellKey = (c: string, l: number): string => `${c}\u0000${l}`;
  for (const n of [...map.nodes].sort((a, b) => (a.label < b.label ? -1 : 1))) {
    const k = cellKey(n.cluster, layer.get(n.id) as number);
    cells.set(k, [...(cells.get(k) ?? []), n]);
  }
  const bands: { cluster: string; top: number; height: number }[] = [];
  let y = TOP;
  for (const c of map.clusters) {
    let rows = 1;
    for (let l = 0; l < columns; l++) rows = Math.max(rows, cells.get(cellKey(c, l))?.length ?? 0);
    const height = rows * ROW_H + 2 * BAND_PAD + 14;
    bands.push({ cluster: c, top: y, height });
    y += height + 8;
  }
  const bandTop = new Map(bands.map((b) => [b.cluster, b.top + BAND_PAD + 14]));
  const yOf = new Map<string, number>();
  const assign = (): void => {
    for (const [k, list] of cells) {
      const top = bandTop.get(k.split('\u0000')[0] as string) as number;
      list.forEach((n, i) => yOf.set(n.id, top + i * ROW_H));
    }
  };
  assign();
  const neighbours = new Map<string, string[]>(map.nodes.map((n) => [n.id, []]));
  for (const e of map.edges) {
    if (e.from === e.to) continue;
    neighbours.get(e.from)?.push(e.to);
    neighbours.get(e.to)?.push(e.from);
  }
  for (let sweep = 0; sweep < 8; sweep++) {
    for (const list of cells.values()) {
      const bary = new Map<string, number>();
      for (const n of list) {
        const ys = (neighbours.get(n.id) ?? []).map((m) => yOf.get(m) as number);
        bary.set(n.id, ys.length > 0 ? ys.reduce((a, b) => a + b, 0) / ys.length : (yOf.get(n.id) as number));
      }
      list.sort((a, b) => (bary.get(a.id) as number) - (bary.get(b.id) as number));
    }
    assign();
  }
  const placed = new Map<string, Placed>();
  for (const n of map.nodes) {
    const l = layer.get(n.id) as number;
    placed.set(n.id, { node: n, layer: l, x: LEFT + l * (NODE_W + COL_GAP), y: yOf.get(n.id) as number });
  }
  return { placed, bands, width: LEFT + columns * (NODE_W + COL_GAP) - COL_GAP + 40, height: y + 10 };
}

function edgePath(a: Placed, b: Placed): string {
  const y1 = a.y + NODE_H / 2;
  const y2 = b.y + NODE_H / 2;
  if (b.layer > a.layer) {
    const x1 = a.x + NODE_W;
    const x2 = b.x - 2;
    const dx = (x2 - x1) / 2;
    return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  }
  if (a === b) {
    const x = a.x + NODE_W;
    return `M${x},${y1 - 4} c30,-18 30,26 0,8`;
  }
  // Same column or backwards: leave to the right, come round, enter from the left.
  const x1 = a.x + NODE_W;
  const x2 = b.x - 2;
  return `M${x1},${y1} C${x1 + 60},${y1} ${x2 - 60},${y2} ${x2},${y2}`;
}

function nodeShape(p: Placed): string {
  const { node } = p;
  const fill = node.kind === 'external' ? '#fff8e6' : node.kind === 'node' ? '#eef0f3' : '#ffffff';
  const stroke = node.kind === 'external' ? '#b7791f' : '#4a5a6a';
  const rx = node.kind === 'external' ? 10 : 4;
  return (
    `<g><title>${esc(node.id)}</title><rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="${rx}" fill="${fill}" stroke="${stroke}"/>` +
    `<text x="${p.x + 8}" y="${p.y + 14}" class="n">${esc(short(node.label))}</text></g>`
  );
}

function edgeShape(e: MapEdge, a: Placed, b: Placed, labelled: boolean): string {
  const colour = VERDICT_COLOURS[e.status ?? 'none'];
  const width = Math.min(4, 1 + Math.log10(Math.max(1, e.flows)) / 1.5).toFixed(1);
  const verdict = e.verdicts ? ` — allowed ${e.verdicts.allowed}, violation ${e.verdicts.violation}, blocked ${e.verdicts.blocked}` : '';
  const title = `${a.node.label} → ${b.node.label}: ${e.label}, ${e.flows} flow(s)${verdict}`;
  let text = '';
  if (labelled && b.layer > a.layer) {
    const x = (a.x + NODE_W + b.x) / 2;
    const y = (a.y + b.y) / 2 + NODE_H / 2 - 3;
    text = `<text x="${x}" y="${y}" class="e" fill="${colour}">${esc(short(e.label))}</text>`;
  }
  const key = e.status ?? 'none';
  return `<g><title>${esc(title)}</title><path d="${edgePath(a, b)}" fill="none" stroke="${colour}" stroke-width="${width}" stroke-opacity="0.55" marker-end="url(#arrow-${key})"/>${text}</g>`;
}

export function mapSvg(map: ServiceMap): string {
  const { placed, bands, width, height } = place(map);
  const w = Math.max(width, 520);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${height}" viewBox="0 0 ${w} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>.n{font-size:11px;fill:#1f2933}.e{font-size:9px;text-anchor:middle}.b{font-size:12px;font-weight:bold;fill:#3e4c59}.l{font-size:11px;fill:#3e4c59}</style>',
    '<defs>',
    ...Object.entries(VERDICT_COLOURS).map(
      ([k, c]) => `<marker id="arrow-${k}" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="${c}"/></marker>`,
    ),
    '</defs>',
    `<rect width="${w}" height="${height}" fill="#ffffff"/>`,
  ];
  const window = map.window ? `${map.window.start} – ${map.window.end}` : 'no flows';
  out.push(`<text x="16" y="24" class="b">Service map: ${map.nodes.length} endpoints, ${map.edges.length} edges (${esc(window)})</text>`);
  const hasVerdicts = map.edges.some((e) => e.status !== undefined);
  if (hasVerdicts) {
    const legend: [string, string][] = [['allowed', 'allowed'], ['violation', 'violation'], ['blocked', 'would be blocked']];
    legend.forEach(([k, text], i) => {
      const x = 16 + i * 150;
      out.push(`<line x1="${x}" y1="42" x2="${x + 26}" y2="42" stroke="${VERDICT_COLOURS[k as 'allowed']}" stroke-width="3"/><text x="${x + 32}" y="46" class="l">${text}</text>`);
    });
  }
  bands.forEach((b, i) => {
    out.push(`<rect x="8" y="${b.top}" width="${w - 16}" height="${b.height}" rx="6" fill="${i % 2 === 0 ? '#f3f6f9' : '#eaf0f6'}" stroke="#d5dde5"/>`);
    out.push(`<text x="16" y="${b.top + 18}" class="b">${esc(short(b.cluster))}</text>`);
  });
  const labelled = map.edges.length <= MAX_LABELLED_EDGES;
  for (const e of map.edges) {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (a !== undefined && b !== undefined) out.push(edgeShape(e, a, b, labelled));
  }
  for (const p of placed.values()) out.push(nodeShape(p));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
