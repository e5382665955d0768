// Alert and flow files: appended to, rotated by size and age, reopened by name (SIGHUP).

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NdjsonWriter } from '../src/output/ndjson-writer';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-writer-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== '')
  .map((l) => JSON.parse(l) as { n: number });

t.test('rotates by size without splitting or losing a line', async (t) => {
  const target = path.join(tmp, 'alerts.ndjson');
  const w = new NdjsonWriter(target, 'alerts', { maxBytes: 1000 });
  for (let n = 0; n < 200; n++) w.write({ n, pad: 'x'.repeat(40) });
  await w.close();
  t.ok(w.rotated.length >= 8, `rotated ${w.rotated.length} times`);
  const files = [...w.rotated, target];
  const all = files.flatMap(lines).map((d) => d.n);
  t.same(all, Array.from({ length: 200 }, (_, n) => n), 'every line once, in order');
  for (const f of w.rotated) t.ok(fs.statSync(f).size <= 1000, `${path.basename(f)} <= 1000`);
});

t.test('rotates by age', async (t) => {
  const target = path.join(tmp, 'aged.ndjson');
  const w = new NdjsonWriter(target, 'alerts', { maxAgeSec: 1 });
  w.write({ n: 1 });
  await new Promise((r) => setTimeout(r, 1100));
  w.write({ n: 2 });
  await w.close();
  t.equal(w.rotated.length, 1);
  t.same(lines(w.rotated[0]).map((d) => d.n), [1]);
  t.same(lines(target).map((d) => d.n), [2]);
});

t.test('appends across runs and reopens by name after an outside rotation', async (t) => {
  const target = path.join(tmp, 'flows.ndjson');
  const first = new NdjsonWriter(target, 'flow records');
  first.write({ n: 1 });
  await first.close();
  const w = new NdjsonWriter(target, 'flow records');
  w.write({ n: 2 });
  await w.ready();
  // logrotate moves the file, then sends SIGHUP; until reopen() lines follow the old name.
  const moved = `${target}.1`;
  fs.renameSync(target, moved);
  w.write({ n: 3 });
  w.reopen();
  w.write({ n: 4 });
  await w.close();
  t.same(lines(moved).map((d) => d.n), [1, 2, 3], 'the last run kept; moved file complete');
  t.same(lines(target).map((d) => d.n), [4], 'new lines in the reopened file');
});

t.test('only regular files rotate: a device keeps its name', async (t) => {
  const w = new NdjsonWriter('/dev/null', 'flow records', { maxBytes: 100 });
  for (let n = 0; n < 50; n++) w.write({ n, pad: 'x'.repeat(40) });
  await w.close();
  t.same(w.rotated, []);
  t.ok(fs.statSync('/dev/null').isCharacterDevice(), '/dev/null is still the device');
});
