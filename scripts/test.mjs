// Runs every test file under test/ (or the paths given) with Node's own runner, TypeScript through
// tsx. Files under test/e2e/ build network namespaces with fixed names (the shop lab), so they run
// one at a time, after the others.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(2);
}
const isE2e = (f) => f.split(sep).includes('e2e');
const unit = files.filter((f) => !isE2e(f));
const e2e = files.filter(isE2e);

// Each run also writes TAP to a file, whose closing counts add up to one line for both runs.
const work = mkdtempSync(join(tmpdir(), 'palisade-test-'));
const totals = { pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
let status = 0;
for (const [name, group, extra] of [
  ['unit', unit, []],
  ['e2e', e2e, ['--test-concurrency=1']],
]) {
  if (group.length === 0) continue;
  const tap = join(work, `${name}.tap`);
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...extra, ...group], { stdio: 'inherit' });
  status ||= r.status ?? 1;
  const text = readFileSync(tap, 'utf8');
  for (const key of Object.keys(totals)) totals[key] += Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}
rmSync(work, { recursive: true, force: true });
console.log(`\ntests: ${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped + totals.todo} skipped`);
process.exit(status);
