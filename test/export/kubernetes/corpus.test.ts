// The np-guard/netpol-analyzer corpus (shared/corpus/netpol beside the repository): every case's
// connectivity list must match expected.txt byte for byte, and every invalid input must be
// refused with the recorded message, naming the file it comes from.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCluster } from '../../../src/export/kubernetes/cluster.js';
import { formatConnlist, formatConnlistJson } from '../../../src/export/kubernetes/connlist.js';
import { formatProblem } from '../../../src/export/kubernetes/problems.js';
import { computeReach } from '../../../src/export/kubernetes/reach.js';

import { corpus as findCorpus } from '../../support/corpus.js';

const { dir: corpus, missing } = findCorpus('netpol', 'MANIFEST.tsv');

/** Rows of a tab-separated file with a header line, as records keyed by the header's names. */
function readTsv(name: string): Record<string, string>[] {
  if (missing !== false) return [];
  const [header, ...rows] = readFileSync(join(corpus, name), 'utf8').split('\n').filter((l) => l !== '');
  const keys = (header ?? '').split('\t');
  return rows.map((row) => {
    const cells = row.split('\t');
    return Object.fromEntries(keys.map((k, i) => [k, cells[i] ?? '']));
  });
}

const withoutFinalNewline = (s: string): string => s.replace(/\n$/, '');

describe('the netpol corpus cases', { skip: missing }, () => {
  for (const row of readTsv('MANIFEST.tsv')) {
    const name = row['case'] as string;
    const dir = join(corpus, 'cases', name);

    test(`${name}: the connlist equals expected.txt`, () => {
      const { cluster, problems } = readCluster(dir);
      assert.ok(cluster, problems.map(formatProblem).join('\n'));
      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8');
      assert.equal(withoutFinalNewline(formatConnlist(computeReach(cluster))), withoutFinalNewline(expected));
    });

    if (row['has_expected_json'] === 'yes') {
      test(`${name}: the JSON list equals expected.json`, () => {
        const { cluster } = readCluster(dir);
        assert.ok(cluster);
        assert.equal(formatConnlistJson(computeReach(cluster)), readFileSync(join(dir, 'expected.json'), 'utf8'));
      });
    }
  }
});

/**
 * Inputs no upstream test checks: what Palisade does with them, and why. An ingress named port
 * that no pod declares allows nothing (no error); a JSON list whose `kind` is misspelt is
 * skipped with a warning while the other file is read; template expressions break the YAML.
 */
const UNRECORDED: Record<string, { refused: boolean; text: string }> = {
  'bad_netpols__subdir5': { refused: false, text: '' },
  'malformed-pod-example-3': { refused: false, text: "field 'kind' is missing in the object; skipped" },
  dirty: { refused: true, text: 'found character that cannot start any token' },
};

describe('the netpol corpus invalid inputs', { skip: missing }, () => {
  for (const row of readTsv('INVALID.tsv')) {
    const name = row['case'] as string;
    const dir = join(corpus, 'invalid', name);
    const expectation = row['expectation'] as string;

    if (expectation === 'not-recorded') {
      const pinned = UNRECORDED[name];
      test(`${name} (not checked upstream) is ${pinned?.refused ? 'refused' : 'analysed'}`, () => {
        assert.ok(pinned, `no pinned behaviour for ${name}`);
        const { cluster, problems } = readCluster(dir);
        assert.equal(cluster === undefined, pinned.refused, problems.map(formatProblem).join('\n'));
        if (pinned.text !== '') assert.match(problems.map(formatProblem).join('\n'), new RegExp(pinned.text.replace(/[.*+?^${}()|[\]\\']/g, '\\$&')));
      });
      continue;
    }

    test(`${name} is refused with "${row['error_substrings']}"`, () => {
      const { cluster, problems } = readCluster(dir);
      assert.equal(cluster, undefined, 'the input was accepted');
      const report = problems.map(formatProblem).join('\n');
      for (const wanted of (row['error_substrings'] as string).split(' || ')) {
        assert.ok(report.includes(wanted), `missing ${JSON.stringify(wanted)} in:\n${report}`);
      }
    });

    // Inputs refused as a whole (nothing relevant in them) have no one file to blame.
    if (expectation !== 'error-empty') {
      test(`${name}: the message names the file and the object or position`, () => {
        const { problems } = readCluster(dir);
        for (const wanted of (row['error_substrings'] as string).split(' || ')) {
          const carrying = problems.filter((p) => p.message.includes(wanted));
          assert.ok(carrying.length > 0, `no problem says ${JSON.stringify(wanted)}`);
          for (const p of carrying) {
            assert.ok(p.file?.startsWith(dir), `no file in ${formatProblem(p)}`);
            assert.ok(p.object !== undefined || p.line !== undefined, `no object or position in ${formatProblem(p)}`);
          }
        }
      });
    }
  }
});
