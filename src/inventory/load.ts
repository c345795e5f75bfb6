// The entry to inventory files: reads one file (YAML or JSON), tells Palisade's own format from
// kubectl's JSON, and checks what both must satisfy: unique workload ids, and no address held by
// two workloads at the same time (attribution would be ambiguous).
//
// Diagnostic codes of inventory files (stable, shared with policy documents where they mean the same):
//   unreadable          the file cannot be read
//   yaml-syntax         the YAML or JSON is malformed
//   unknown-format      neither Palisade's inventory format nor a kubectl List
//   schema              a value has the wrong type, or a required field is missing or empty
//   unknown-field       a field Palisade's format does not define (with did-you-mean)
//   bad-address         an address that is not an IP
//   bad-time            a lease time that is not ISO 8601 with a zone, or ends before it starts
//   duplicate-workload  two workloads with one id
//   address-conflict    one address held by two workloads at overlapping times

import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { emptyInventory, type Inventory, type Workload } from '../model/workload.js';
import type { Diagnostic } from '../policy/diagnostics.js';
import { diagnosticAt, formatPath, valuePos, type SourceDoc } from '../policy/document/source.js';
import type { SourcePos } from '../model/policy.js';
import { leaseEnd, leaseStart } from '../policy/select.js';
import { isInventoryFile, readInventoryFile } from './file.js';
import { isKubectlList, readKubectlList } from './kubectl.js';
import { report, type ReadInventory, type Reader } from './read.js';

export interface InventoryLoad {
  inventory: Inventory;
  diagnostics: Diagnostic[];
  /** Where each workload (by id) was written, so findings about it can point there. */
  positions: ReadonlyMap<string, SourcePos>;
}

function fileDiagnostic(file: string, code: string, message: string, line = 1, col = 1): Diagnostic {
  return diagnosticAt({ file, line, col, path: '' }, code, message);
}

function checkIdentity(r: Reader, { inventory, workloadAt }: ReadInventory): void {
  const seen = new Map<string, number>();
  inventory.workloads.forEach((w, i) => {
    const first = seen.get(w.id);
    if (first === undefined) seen.set(w.id, i);
    else report(r, workloadAt[i] ?? [], 'duplicate-workload', `workload id "${w.id}" is already used at ${formatPath(workloadAt[first] ?? [])}`);
  });
  const holders = new Map<string, { w: Workload; since: number; until: number }[]>();
  inventory.workloads.forEach((w, i) => {
    for (const lease of w.addresses) {
      const since = leaseStart(lease);
      const until = leaseEnd(lease);
      const others = holders.get(lease.ip) ?? [];
      const clash = others.find((o) => o.w.id !== w.id && o.since < until && since < o.until);
      if (clash !== undefined) {
        report(r, workloadAt[i] ?? [], 'address-conflict', `${lease.ip} is held by "${w.id}" and "${clash.w.id}" at the same time`, 'give the leases since/until times that do not overlap');
      }
      others.push({ w, since, until });
      holders.set(lease.ip, others);
    }
  });
}

// Bounds the expansion of YAML aliases, so a small hostile file cannot become a huge value.
const MAX_ALIAS_COUNT = 100;

/** Reads an inventory file. Never throws for bad input: every problem is a diagnostic. */
export async function loadInventory(path: string): Promise<InventoryLoad> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : 'cannot be read';
    return { inventory: emptyInventory(), diagnostics: [fileDiagnostic(path, 'unreadable', `inventory file ${reason}`)], positions: new Map() };
  }
  return parseInventory(path, text);
}

/** Parses inventory text; `file` names it in diagnostics. */
export function parseInventory(file: string, text: string): InventoryLoad {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const src: SourceDoc = { file, doc, lines };
  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return fileDiagnostic(file, 'yaml-syntax', e.message.split('\n')[0] ?? e.message, line, col);
    });
    return { inventory: emptyInventory(), diagnostics, positions: new Map() };
  }
  const r: Reader = { src, diagnostics: [] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml library throws when aliases expand past the bound: a file built to exhaust memory.
    const message = err instanceof Error ? err.message : String(err);
    return { inventory: emptyInventory(), diagnostics: [fileDiagnostic(file, 'yaml-syntax', message)], positions: new Map() };
  }
  let read: ReadInventory;
  if (isKubectlList(value)) {
    read = readKubectlList(r, value);
  } else if (isInventoryFile(value)) {
    read = readInventoryFile(r, value);
  } else {
    const message = 'not an inventory: expected workloads/namespaces/nodes/services, or the JSON of kubectl get pods,namespaces,services -A -o json';
    return { inventory: emptyInventory(), diagnostics: [fileDiagnostic(file, 'unknown-format', message)], positions: new Map() };
  }
  checkIdentity(r, read);
  const positions = new Map<string, SourcePos>();
  read.inventory.workloads.forEach((w, i) => {
    if (!positions.has(w.id)) positions.set(w.id, valuePos(src, read.workloadAt[i] ?? []));
  });
  return { inventory: read.inventory, diagnostics: r.diagnostics, positions };
}
