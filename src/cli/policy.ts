// `palisade policy check` and `palisade policy explain`: argument parsing and printing only. The
// documents come from policy/document, workloads from inventory, findings from policy/lint, and
// verdicts from the compiled policy.

import type { Command } from 'commander';
import { isIP } from 'node:net';
import { setExitCode } from './commands.js';
import { defineDiff } from './diff.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { loadInventory, type InventoryLoad } from '../inventory/load.js';
import { canonicalIp } from '../model/address.js';
import type { Connection } from '../model/connection.js';
import type { IpProto } from '../model/flow.js';
import type { Policy } from '../model/policy.js';
import type { Workload } from '../model/workload.js';
import { compile, type Resolver } from '../policy/compile.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, suggestion, type Diagnostic } from '../policy/diagnostics.js';
import { normalizeFqdn } from '../policy/document/address.js';
import { applicationCatalog } from '../policy/document/applications.js';
import { loadPolicy } from '../policy/document/load.js';
import { parsePort } from '../policy/document/ports.js';
import { describePorts, type EndpointExplanation, type Explanation } from '../policy/explain.js';
import { lintPolicy } from '../policy/lint/lint.js';
import { leaseHolds } from '../policy/select.js';
import { toSarif } from '../policy/sarif.js';

const CHECK_FORMATS = ['text', 'json', 'sarif'] as const;
const EXPLAIN_FORMATS = ['text', 'json'] as const;
const VERSION = '0.1.0';

function formatOption<T extends string>(command: string, value: string, formats: readonly T[]): T {
  const found = formats.find((f) => f === value);
  if (found === undefined) throw new UsageError(`${command}: unknown --format ${JSON.stringify(value)} (expected ${formats.join(', ')})`);
  return found;
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summary(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const notes = diagnostics.length - errors - warnings;
  const parts = [plural(errors, 'error'), plural(warnings, 'warning')];
  if (notes > 0) parts.push(plural(notes, 'note'));
  return parts.join(', ');
}

/** Loads the policy and, when given, the inventory; everything either reported, in file order. */
async function loadInputs(paths: string[], inventoryPath: string | undefined): Promise<{ policy: Policy; inventory: InventoryLoad | undefined; diagnostics: Diagnostic[] }> {
  const { policy, diagnostics } = await loadPolicy(paths);
  const inventory = inventoryPath === undefined ? undefined : await loadInventory(inventoryPath);
  return { policy, inventory, diagnostics: sortDiagnostics([...diagnostics, ...(inventory?.diagnostics ?? [])]) };
}

interface CheckOptions {
  inventory?: string;
  format: string;
  strict?: boolean;
}

async function runCheck(paths: string[], options: CheckOptions): Promise<void> {
  const format = formatOption('policy check', options.format, CHECK_FORMATS);
  const loaded = await loadInputs(paths, options.inventory);
  const broken = hasErrors(loaded.diagnostics);
  const inventory = loaded.inventory;
  const findings = broken
    ? loaded.diagnostics
    : sortDiagnostics([...loaded.diagnostics, ...lintPolicy(loaded.policy, inventory?.inventory, { workloadPos: (id) => inventory?.positions.get(id) })]);
  const failed = hasErrors(findings) || (options.strict === true && findings.some((d) => d.severity === 'warning'));
  const code = broken ? EXIT_USAGE : failed ? EXIT_FAILED : EXIT_OK;
  if (format === 'json') {
    write(JSON.stringify({ ok: code === EXIT_OK, diagnostics: findings }, null, 2));
  } else if (format === 'sarif') {
    write(JSON.stringify(toSarif(findings, { baseDir: process.cwd(), version: VERSION }), null, 2));
  } else if (broken) {
    for (const d of findings) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write(`palisade: policy check: the input has ${summary(findings)}; nothing was linted\n`);
  } else {
    for (const d of findings) write(formatDiagnostic(d));
    const rules = loaded.policy.rules.length;
    const groups = loaded.policy.groups.filter((g) => !g.reserved).length;
    write(`checked ${plural(rules, 'rule')} and ${plural(groups, 'group')}: ${findings.length === 0 ? 'no findings' : summary(findings)}`);
  }
  setExitCode(code);
}

interface ExplainOptions {
  policy: string[];
  inventory: string;
  from: string;
  to: string;
  port: string;
  app?: string;
  at?: string;
  format: string;
}

/** One side of the connection to explain, as the user named it. */
interface Side {
  ip: string;
  /** The DNS name an FQDN endpoint is known by. */
  fqdn?: string;
  label: string;
}

/** A workload name or id, an IP address, or a DNS name for an endpoint outside the inventory. */
function resolveSide(option: string, text: string, workloads: readonly Workload[], at: number): Side {
  if (isIP(text) !== 0) return { ip: canonicalIp(text) as string, label: text };
  const byId = workloads.filter((w) => w.id === text);
  const matches = byId.length > 0 ? byId : workloads.filter((w) => w.name === text);
  if (matches.length > 1) {
    throw new UsageError(`policy explain: ${option} ${text} names several workloads (${matches.map((w) => w.id).join(', ')}); give the id`);
  }
  const w = matches[0];
  if (w !== undefined) {
    const lease = w.addresses.find((l) => leaseHolds(l, at));
    if (lease === undefined) {
      throw new UsageError(`policy explain: workload ${w.id} holds no address at ${new Date(at).toISOString()}`);
    }
    return { ip: lease.ip, label: w.id };
  }
  // A name with a dot: a single word is far more likely a mistyped workload than a DNS name.
  const fqdn = normalizeFqdn(text);
  if (fqdn.ok && fqdn.pattern.includes('.') && !fqdn.pattern.startsWith('*')) return { ip: fqdn.pattern, fqdn: fqdn.pattern, label: text };
  const hint = suggestion(text, workloads.flatMap((x) => [x.name, x.id]));
  throw new UsageError(`policy explain: ${option} ${text} is no workload name or id, IP address or DNS name${hint === undefined ? '' : ` (${hint})`}`);
}

function parseService(text: string): { ipProto: IpProto; port: number } {
  const parsed = parsePort(text);
  const usage = 'write one port such as tcp/5432, udp/53 or icmp/8';
  if (!parsed.ok) throw new UsageError(`policy explain: --port: ${parsed.message} (${parsed.hint ?? usage})`);
  const { proto, first, last } = parsed.range;
  if (proto === 'any' || first === undefined || last !== first) throw new UsageError(`policy explain: --port ${text} is not one port (${usage})`);
  return { ipProto: proto, port: first };
}

function parseApp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const catalog = applicationCatalog();
  const name = catalog.resolve(text);
  if (name === undefined) {
    const hint = suggestion(text, catalog.names);
    throw new UsageError(`policy explain: --app: unknown application "${text}"${hint === undefined ? '' : ` (${hint})`}`);
  }
  return name;
}

function parseAt(text: string | undefined): number {
  if (text === undefined) return Date.now();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`policy explain: --at ${text} is not an ISO 8601 time`);
  return at;
}

function describeEndpoint(e: EndpointExplanation, side: Side): string {
  const what = e.kind === 'workload' ? `workload ${e.workload ?? ''}` : e.kind === 'node' ? `node ${e.node ?? ''}` : side.fqdn !== undefined ? `external ${side.fqdn}` : `external ${e.ip}`;
  const address = side.fqdn === undefined && e.kind !== 'external' ? ` (${e.ip})` : '';
  const mode = e.mode === undefined ? '' : `; mode ${e.mode} (${e.modeFrom === 'default' ? 'the default' : `set by group ${e.modeFrom ?? ''}`})`;
  return `${what}${address}; groups ${e.groups.join(', ')}${mode}`;
}

function explainText(x: Explanation, client: Side, server: Side, service: string): string {
  const lines: string[] = [];
  const v = x.verdict;
  lines.push(`${client.label} → ${server.label} on ${service}`);
  lines.push(`verdict: ${v.pending === true ? 'pending' : v.allowed ? 'allowed' : 'blocked'}${v.enforced ? ', enforced' : ''}${v.violation ? ', violation' : ''}`);
  lines.push(`  ${v.reason}`);
  if (x.rule !== undefined) {
    const r = x.rule;
    const at = r.pos === undefined ? '' : ` at ${r.pos.file}:${r.pos.line}:${r.pos.col}`;
    const apps = r.applications.length === 0 ? 'any application' : `applications ${r.applications.join(', ')}`;
    lines.push(`deciding rule: ${r.id}${at}`);
    lines.push(`  ${r.action} ${r.from.join(', ')} → ${r.to.join(', ')} on ${describePorts(r.ports)}, ${apps}, priority ${r.priority}`);
  } else {
    lines.push(`no rule matched: each side applies its mode's default`);
    if (x.nearMisses.length === 0) lines.push('  no rule names both endpoints\' groups');
    for (const m of x.nearMisses) lines.push(`  nearest miss: ${m.ruleId} (${m.action}, priority ${m.priority}): ${m.why}`);
  }
  lines.push('perimeters:');
  if (v.perimeters.length === 0) lines.push('  none: neither endpoint is a workload');
  for (const p of v.perimeters) {
    const what = !p.allowed ? 'blocked' : p.violation ? 'allowed, violation reported' : p.learn ? 'allowed, learned' : 'allowed';
    lines.push(`  ${p.workload} ${p.side} (${p.mode}): ${what}`);
  }
  lines.push(`client: ${describeEndpoint(x.client, client)}`);
  lines.push(`server: ${describeEndpoint(x.server, server)}`);
  return lines.join('\n');
}

async function runExplain(options: ExplainOptions): Promise<void> {
  const format = formatOption('policy explain', options.format, EXPLAIN_FORMATS);
  const { ipProto, port } = parseService(options.port);
  const app = parseApp(options.app);
  const at = parseAt(options.at);
  const loaded = await loadInputs(options.policy, options.inventory);
  if (hasErrors(loaded.diagnostics)) {
    for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write(`palisade: policy explain: the input has ${summary(loaded.diagnostics)}\n`);
    setExitCode(EXIT_USAGE);
    return;
  }
  const inventory = (loaded.inventory as InventoryLoad).inventory;
  const client = resolveSide('--from', options.from, inventory.workloads, at);
  const server = resolveSide('--to', options.to, inventory.workloads, at);
  const names = new Map<string, string>();
  for (const s of [client, server]) if (s.fqdn !== undefined) names.set(s.ip, s.fqdn);
  // An FQDN endpoint is known only by its name: the resolver gives that name for it, as DNS
  // answers seen on the wire would.
  const dns: Resolver = { namesOf: (ip) => (names.has(ip) ? [names.get(ip) as string] : []) };
  const conn: Connection = { ipProto, client: { ip: client.ip, port: 0 }, server: { ip: server.ip, port }, at };
  if (app !== undefined) conn.app = app;
  const explanation = compile(loaded.policy, inventory).explain(conn, dns);
  const service = `${options.port}${app === undefined ? '' : `, application ${app}`}`;
  if (format === 'json') write(JSON.stringify({ connection: conn, ...explanation }, null, 2));
  else write(explainText(explanation, client, server, service));
  setExitCode(EXIT_OK);
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('check policy documents and explain the decisions they make');
  policy
    .command('check')
    .description('validate and lint policy documents. Exit 0 when clean (warnings allowed unless --strict), 1 on findings, 2 on unreadable or invalid input')
    .argument('<paths...>', 'policy files or directories (read recursively: .yaml, .yml, .json)')
    .option('--inventory <file>', 'workloads to lint against (Palisade inventory YAML/JSON, or kubectl get pods,namespaces,services -A -o json); enables the findings that need workloads')
    .option('--format <format>', `output format: ${CHECK_FORMATS.join(', ')} (SARIF 2.1.0, paths relative to the current directory)`, 'text')
    .option('--strict', 'warnings fail the check too (exit 1)')
    .action(async (paths: string[], options: CheckOptions) => runCheck(paths, options));
  policy
    .command('explain')
    .description('explain the verdict for one connection: each perimeter, the deciding rule and where it is written, or the nearest misses')
    .requiredOption('--policy <paths...>', 'policy files or directories')
    .requiredOption('--inventory <file>', 'the workloads (Palisade inventory YAML/JSON, or kubectl JSON)')
    .requiredOption('--from <endpoint>', 'client: workload name or id, IP address, or DNS name of an outside endpoint')
    .requiredOption('--to <endpoint>', 'server: workload name or id, IP address, or DNS name of an outside endpoint')
    .requiredOption('--port <port>', 'the server port: tcp/5432, udp/53, sctp/N, icmp/8 (ICMP type)')
    .option('--app <name>', 'application identified from the payload (registry name, e.g. PostgreSQL); absent: not identified')
    .option('--at <time>', 'when the connection happens (ISO 8601), which decides who held an address; default now')
    .option('--format <format>', `output format: ${EXPLAIN_FORMATS.join(', ')}`, 'text')
    .action(async (options: ExplainOptions) => runExplain(options));
  defineDiff(policy.command('diff'));
}
