// DeliveryQueue and Spool over a fake transport: batching, retry with backoff, spooling while
// the receiver fails, memory and spool bounds (losses counted), a spool that outlives its
// queue, close(timeout), and every document delivered exactly once across an outage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';

import { DeliveryQueue, SendOutcome, Transport } from '../src/output/sinks/delivery';
import { SEGMENT_MAX_LINES, Spool } from '../src/output/sinks/spool';

/** Every wait in these tests gives up after this long instead of hanging the run. */
const WAIT_LIMIT_MS = 5000;
const FAST = { batchMaxMs: 20, backoffMinMs: 5, backoffMaxMs: 40 };

const doc = (i: number) => JSON.stringify({ event: { id: `e${i}`, kind: 'alert' }, n: i });
const idOf = (line: string) => (JSON.parse(line) as { event: { id: string } }).event.id;

class FakeTransport implements Transport {
  batches: string[][] = [];
  up = true;
  attempts = 0;
  closed = false;
  /** Set to fail with retryable: false once. */
  poison = false;
  hang = false;

  async send(lines: string[]): Promise<SendOutcome | void> {
    this.attempts++;
    if (this.hang) return new Promise(() => undefined); // never settles: a hung receiver
    if (this.poison) {
      this.poison = false;
      throw Object.assign(new Error('bad request'), { retryable: false });
    }
    if (!this.up) throw Object.assign(new Error('refused'), { retryable: true });
    this.batches.push([...lines]);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  get ids(): string[] {
    return this.batches.flat().map(idOf);
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + WAIT_LIMIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const tmpDir = (t: Tap) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-spool-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};
type Tap = { teardown(fn: () => void): void };

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

t.test('batches by size and by time, each line once, in order', async (t) => {
  const tr = new FakeTransport();
  const q = new DeliveryQueue(tr, { name: 'b', batchMaxLines: 10, ...FAST });
  for (const i of range(0, 25)) q.push(doc(i), 'alert');
  await until('25 sent', () => q.stats().sent === 25);
  t.ok(tr.batches.every((b) => b.length <= 10), 'no batch over batchMaxLines');
  t.same(tr.ids, range(0, 25).map((i) => `e${i}`), 'each once, oldest first');
  await q.close(1000);
  t.ok(tr.closed, 'transport closed');
  t.same(q.stats(), { sent: 25, retried: 0, spooled: 0, dropped: 0, queued: 0 });
});

t.test('retries with backoff, then delivers everything once (no spool)', async (t) => {
  const tr = new FakeTransport();
  tr.up = false;
  const q = new DeliveryQueue(tr, { name: 'r', batchMaxLines: 5, ...FAST });
  for (const i of range(0, 12)) q.push(doc(i), 'flow');
  await until('three attempts', () => tr.attempts >= 3);
  t.ok(q.stats().retried >= 3, 'retries counted');
  t.equal(q.stats().queued, 12, 'held in memory while failing');
  tr.up = true;
  await until('12 sent', () => q.stats().sent === 12);
  t.same(tr.ids, range(0, 12).map((i) => `e${i}`), 'exactly once, in order');
  await q.close(1000);
});

t.test('without a spool the oldest lines are dropped over memoryMaxLines', async (t) => {
  const tr = new FakeTransport();
  tr.up = false;
  const q = new DeliveryQueue(tr, { name: 'm', batchMaxLines: 5, memoryMaxLines: 20, ...FAST });
  for (const i of range(0, 50)) q.push(doc(i), 'alert');
  t.ok(q.stats().queued <= 25, 'memory bounded (plus one batch in flight)');
  tr.up = true;
  await until('memory empty', () => q.stats().queued === 0);
  const s = q.stats();
  t.equal(s.sent + s.dropped, 50, 'every line either sent or counted as dropped');
  t.ok(s.dropped >= 25, 'losses counted');
  t.ok(tr.ids.includes('e49'), 'the newest survive');
  await q.close(1000);
});

t.test('a failing receiver sends lines to the spool; delivered after, once', async (t) => {
  const dir = tmpDir(t);
  const tr = new FakeTransport();
  tr.up = false;
  const q = new DeliveryQueue(tr, { name: 's', batchMaxLines: 10, spoolDir: dir, ...FAST });
  for (const i of range(0, 100)) q.push(doc(i), 'alert');
  await until('a retry', () => q.stats().retried >= 2);
  t.ok(q.stats().spooled > 0, 'lines spooled');
  t.ok(q.stats().queued < 20, 'memory stays small while failing');
  t.ok(fs.readdirSync(dir).some((f) => f.startsWith('s-')), 'segment files on disk');
  tr.up = true;
  await until('100 sent', () => q.stats().sent === 100);
  t.same(tr.ids, range(0, 100).map((i) => `e${i}`), 'exactly once and oldest first');
  await q.close(1000);
  t.same(fs.readdirSync(dir), [], 'spool emptied');
  t.equal(q.stats().dropped, 0);
});

t.test('memory over memoryMaxLines goes to the spool even while the receiver is up', async (t) => {
  const dir = tmpDir(t);
  const tr = new FakeTransport();
  tr.hang = true;
  const q = new DeliveryQueue(tr, {
    name: 'h', batchMaxLines: 5, memoryMaxLines: 10, spoolDir: dir, ...FAST,
  });
  for (const i of range(0, 40)) q.push(doc(i), 'alert');
  t.ok(q.stats().queued <= 15, 'memory bounded');
  t.ok(q.stats().spooled >= 25, 'the rest on disk');
  await q.close(50); // the hung send cannot finish: everything ends up on disk
  const s = q.stats();
  t.equal(s.spooled, 40, 'all forty spooled, the batch in flight included');
  t.equal(s.queued, 0);
});

t.test('a full spool drops its oldest segments and counts the lines', async (t) => {
  const dir = tmpDir(t);
  const spool = new Spool(dir, 'x', 1000);
  for (const i of range(0, 20)) spool.append([doc(i), doc(i + 100)]); // ~80 bytes a segment
  t.ok(spool.bytes <= 1000, 'under the bound');
  t.ok(spool.dropped > 0 && spool.dropped % 2 === 0, 'whole segments dropped, lines counted');
  const { lines } = spool.takeBatch(1000);
  t.equal(lines.length + spool.dropped, 40, 'kept + dropped = written');
  t.equal(idOf(lines[lines.length - 1]), 'e119', 'the newest kept');
});

t.test('spool: partial take, commit, corrupt and partial lines, restart', async (t) => {
  const dir = tmpDir(t);
  const a = new Spool(dir, 'p', 1 << 20);
  a.append(range(0, 5).map(doc));
  a.append(range(5, 5).map(doc));
  const first = a.takeBatch(3);
  t.same(first.lines.map(idOf), ['e0', 'e1', 'e2']);
  const again = a.takeBatch(3);
  t.same(again.lines.map(idOf), ['e0', 'e1', 'e2'], 'nothing removed before commit');
  again.commit();
  // A crash mid-write leaves a partial last line; garbage in the middle is skipped too.
  const last = fs.readdirSync(dir).sort().pop() as string;
  fs.appendFileSync(path.join(dir, last), 'not json\n{"event":{"id":"e1');

  const b = new Spool(dir, 'p', 1 << 20); // a new run on the same directory
  const rest = b.takeBatch(100);
  t.same(rest.lines.map(idOf), range(3, 7).map((i) => `e${i}`), 'the rest, in order');
  t.equal(b.corrupt, 2, 'bad lines counted');
  b.takeBatch(100); // a re-read after a failed send does not count them again
  t.equal(b.corrupt, 2);
  rest.commit();
  t.ok(b.empty);
  t.same(fs.readdirSync(dir), []);
  t.throws(() => new Spool(dir, '../evil', 10), { code: 'ERR_SINK_OPTION' });
});

t.test('a second run delivers what the first one spooled', async (t) => {
  const dir = tmpDir(t);
  const down = new FakeTransport();
  down.up = false;
  const first = new DeliveryQueue(down, { name: 'run', batchMaxLines: 10, spoolDir: dir, ...FAST });
  for (const i of range(0, 30)) first.push(doc(i), 'alert');
  await first.close(100);
  t.equal(first.stats().sent, 0);
  t.equal(first.stats().spooled, 30, 'all thirty on disk at exit');

  const tr = new FakeTransport();
  const second = new DeliveryQueue(tr, { name: 'run', batchMaxLines: 10, spoolDir: dir, ...FAST });
  second.push(doc(30), 'alert');
  await until('31 sent', () => second.stats().sent === 31);
  t.same(tr.ids, range(0, 31).map((i) => `e${i}`), 'old run first, then new, each once');
  await second.close(1000);
  t.same(fs.readdirSync(dir), []);
});

t.test('close(timeout) delivers what it can in time', async (t) => {
  const tr = new FakeTransport();
  const q = new DeliveryQueue(tr, { name: 'c', batchMaxLines: 100, batchMaxMs: 60_000 });
  for (const i of range(0, 7)) q.push(doc(i), 'alert');
  await q.close(1000); // does not wait for batchMaxMs
  t.equal(q.stats().sent, 7);

  const never = new FakeTransport();
  never.up = false;
  const q2 = new DeliveryQueue(never, { name: 'c2', ...FAST });
  q2.push(doc(1), 'alert');
  const started = Date.now();
  await q2.close(150);
  t.ok(Date.now() - started < 1000, 'resolves near the timeout');
  t.ok(never.attempts >= 2, 'kept trying until the timeout');
  t.same(q2.stats(), { sent: 0, retried: q2.stats().retried, spooled: 0, dropped: 1, queued: 0 },
    'no spool: counted as dropped');
  q2.push(doc(2), 'alert');
  t.equal(q2.stats().dropped, 2, 'a push after close is counted, not thrown');
});

t.test('a poison batch is dropped and counted; the queue moves on', async (t) => {
  const tr = new FakeTransport();
  tr.poison = true;
  const q = new DeliveryQueue(tr, { name: 'x', batchMaxLines: 3, ...FAST });
  for (const i of range(0, 6)) q.push(doc(i), 'alert');
  await until('all accounted', () => q.stats().sent + q.stats().dropped === 6);
  t.equal(q.stats().dropped, 3);
  t.same(tr.ids, ['e3', 'e4', 'e5']);
  await q.close(1000);
});

t.test('items refused as busy are sent again; refused for good are counted', async (t) => {
  let calls = 0;
  const sent: string[] = [];
  const tr: Transport = {
    async send(lines) {
      calls++;
      if (calls === 1) return { dropped: 1, retry: [lines[1]] };
      sent.push(...lines);
    },
    async close() {},
  };
  const q = new DeliveryQueue(tr, { name: 'i', batchMaxLines: 3, ...FAST });
  for (const i of range(0, 3)) q.push(doc(i), 'alert');
  await until('retry delivered', () => q.stats().sent === 2);
  t.same(sent.map(idOf), ['e1']);
  t.equal(q.stats().dropped, 1);
  t.equal(q.stats().retried, 1);
  await q.close(1000);
});

t.test('disk trouble is counted, never thrown', async (t) => {
  const spoolDir = path.join(tmpDir(t), 'spool');
  fs.mkdirSync(spoolDir);
  // Left by a crashed run: a segment of bad lines, a dead rewrite copy, and a stranger.
  fs.writeFileSync(path.join(spoolDir, 'g-000000000000.ndjson'), 'garbage\n{"half');
  fs.writeFileSync(path.join(spoolDir, 'g-000000000001.ndjson.tmp'), 'dead copy');
  fs.writeFileSync(path.join(spoolDir, 'other.txt'), 'not ours');
  const tr = new FakeTransport();
  tr.close = async () => { throw new Error('close failed'); };
  const q = new DeliveryQueue(tr, { name: 'g', memoryMaxLines: 2, spoolDir, ...FAST });
  t.notOk(fs.readdirSync(spoolDir).some((f) => f.endsWith('.tmp')),
    'a dead rewrite copy is removed at start');
  await until('the bad segment cleared', () => q.stats().dropped === 2);
  t.same(fs.readdirSync(spoolDir), ['other.txt'], 'only unreadable lines: removed, counted');

  fs.rmSync(spoolDir, { recursive: true }); // the spool directory vanishes under us
  for (const i of range(0, 3)) q.push(doc(i), 'alert');
  t.equal(q.stats().dropped, 5, 'lines that could not be spooled are counted');
  t.match(q.spoolError, { code: 'ENOENT' });
  t.match(q.stats().spoolError, /ENOENT/, 'and said in the stats the summary line prints');
  await q.close(200); // the transport's close throws: shutdown still resolves
  t.pass('closed');
});

t.test('spool: large appends are cut into segments; bad options refused', async (t) => {
  const dir = tmpDir(t);
  const s = new Spool(dir, 'big', 1 << 24);
  s.append(range(0, SEGMENT_MAX_LINES * 2 + 1).map(doc));
  t.equal(fs.readdirSync(dir).length, 3);
  t.throws(() => new Spool(dir, 'n', 0), { code: 'ERR_SINK_OPTION', message: /spoolMaxBytes/ });
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, '');
  t.throws(() => new Spool(path.join(file, 'x'), 'n', 10), { code: 'ERR_SINK_SPOOL' });
});

t.test('options are checked with a code naming the option', async (t) => {
  t.throws(() => new DeliveryQueue(new FakeTransport(), { name: 'o', batchMaxLines: 0 }),
    { code: 'ERR_SINK_OPTION', message: /batchMaxLines/ });
});
