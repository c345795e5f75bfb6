import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  didYouMean,
  editDistance,
  formatDiagnostic,
  sortDiagnostics,
  type Diagnostic,
} from '../../../src/policy/diagnostics.js';

const base: Diagnostic = {
  code: 'unknown-group',
  severity: 'error',
  file: 'policy.yaml',
  line: 14,
  col: 7,
  path: 'rules[2].to',
  message: 'unknown group "dbb"',
};

test('an error prints as file:line:col path: message (hint)', () => {
  assert.equal(
    formatDiagnostic({ ...base, hint: 'did you mean "db"?' }),
    'policy.yaml:14:7 rules[2].to: unknown group "dbb" (did you mean "db"?)',
  );
});

test('a warning names its severity and a diagnostic without path omits it', () => {
  assert.equal(
    formatDiagnostic({ ...base, severity: 'warning', path: '', message: 'no policy files' }),
    'policy.yaml:14:7: warning: no policy files',
  );
});

test('did-you-mean picks the closest candidate within the typo distance', () => {
  assert.equal(didYouMean('dbb', ['web', 'db', 'dbs-long']), 'db');
  assert.equal(didYouMean('fromTraget', ['toTarget', 'fromTarget']), 'fromTarget');
});

test('did-you-mean ignores case and offers nothing for a distant word', () => {
  assert.equal(didYouMean('REDIS', ['redis']), 'redis');
  assert.equal(didYouMean('kafka', ['redis', 'mysql']), undefined);
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('edit distance is symmetric and zero only for equal words', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
      const d = editDistance(a, b);
      assert.equal(d, editDistance(b, a));
      assert.equal(d === 0, a === b);
      assert.ok(d <= Math.max(a.length, b.length));
    }),
  );
});

test('diagnostics sort by file, then line, then column', () => {
  const at = (file: string, line: number, col: number): Diagnostic => ({ ...base, file, line, col });
  const sorted = sortDiagnostics([at('b.yaml', 1, 1), at('a.yaml', 9, 2), at('a.yaml', 9, 1), at('a.yaml', 2, 5)]);
  assert.deepEqual(
    sorted.map((d) => `${d.file}:${d.line}:${d.col}`),
    ['a.yaml:2:5', 'a.yaml:9:1', 'a.yaml:9:2', 'b.yaml:1:1'],
  );
});
