// The HTTP sink against real loopback servers: Elasticsearch `_bulk` and Splunk HEC bodies
// (gzip, auth, every line parsed), retries through 500 and 429, a receiver that starts late
// and one that never comes during the run; every alert must arrive exactly once by event.id.
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import t, { Test } from 'tap';

import { createHttpSink } from '../src/output/sinks/http-sink';
import type { Sink } from '../src/output/sinks/sink';

/** Every wait gives up after this long instead of hanging the run. */
const WAIT_LIMIT_MS = 8000;
const FAST = { batchMaxMs: 20, backoffMinMs: 20, backoffMaxMs: 200, requestTimeoutMs: 2000 };
const AUTH = 'ApiKey dGVzdDp0ZXN0';

const alert = (i: number) => JSON.stringify({
  '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  event: { id: `id-${i}`, kind: i % 2 === 0 ? 'alert' : 'event' }, n: i,
});
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A receiver that stores `_bulk` documents by _id and answers what `plan` says first. */
class Receiver {
  requests: Received[] = [];
  docs = new Map<string, Record<string, unknown>>();
  /** Arrivals by id, duplicates included (a duplicate shows as a count above 1). */
  arrivals = new Map<string, number>();
  plan: number[] = [];
  /** 200 answers to give instead of the real one (nothing stored for those requests). */
  answers: string[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = req.headers['content-encoding'] === 'gzip'
        ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      this.requests.push({ path: req.url ?? '', headers: req.headers, text });
      const status = this.plan.shift() ?? 200;
      if (status !== 200) {
        res.writeHead(status).end('{"error":"planned"}');
        return;
      }
      const canned = this.answers.shift();
      if (canned !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(canned);
        return;
      }
      const answer = req.url === '/_bulk' ? this.bulk(text) : this.hec(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  }

  private bulk(text: string): object {
    const lines = text.split('\n');
    if (lines.pop() !== '') throw new Error('_bulk body must end in a newline');
    const items: object[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]) as { create: { _index: string; _id: string } };
      const doc = JSON.parse(lines[i + 1]) as Record<string, unknown>;
      const id = action.create._id;
      this.arrivals.set(id, (this.arrivals.get(id) ?? 0) + 1);
      const status = this.docs.has(id) ? 409 : 201;
      this.docs.set(id, doc);
      items.push({ create: { _index: action.create._index, _id: id, status } });
    }
    return { errors: items.some((i) => (i as { create: { status: number } }).create.status >= 300),
      items };
  }

  private hec(text: string): object {
    for (const obj of parseConcatenated(text)) {
      const event = obj.event as { event: { id: string } };
      const id = event.event.id;
      this.arrivals.set(id, (this.arrivals.get(id) ?? 0) + 1);
      this.docs.set(id, obj);
    }
    return { text: 'Success', code: 0 };
  }
}

/** Splits HEC's concatenated JSON objects (no separator between them). */
function parseConcatenated(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      out.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
      start = i + 1;
    }
  }
  if (text.slice(start).trim() !== '') throw new Error('trailing bytes in HEC body');
  return out;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + WAIT_LIMIT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function onceEach(t: Test, rx: Receiver, n: number): void {
  t.equal(rx.arrivals.size, n, `all ${n} ids arrived`);
  t.ok(range(n).every((i) => rx.docs.has(`id-${i}`)), 'every id present');
  t.equal(rx.docs.size, n, 'stored once each');
}

const pushAll = (sink: Sink, n: number, from = 0) => {
  for (const i of range(n)) sink.push(alert(from + i), i % 2 === 0 ? 'alert' : 'flow');
};

t.test('elasticsearch _bulk: gzip, auth, action and doc lines', async (t) => {
  const rx = new Receiver();
  const port = await rx.listen();
  t.teardown(() => rx.close());
  const sink = createHttpSink({ name: 'es', url: `http://127.0.0.1:${port}/`,
    format: 'elasticsearch', index: 'th-test', authHeader: AUTH, gzip: true,
    batchMaxLines: 4, ...FAST });
  pushAll(sink, 10);
  await sink.close(3000);
  t.ok(rx.requests.length >= 3, 'several batches');
  for (const r of rx.requests) {
    t.equal(r.path, '/_bulk');
    t.equal(r.headers.authorization, AUTH, 'auth header arrives');
    t.equal(r.headers['content-type'], 'application/x-ndjson');
    t.equal(r.headers['content-encoding'], 'gzip');
    type Line = Record<string, { id?: string }>;
    const lines = r.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
    t.equal(lines.length % 2, 0, 'action and document lines in pairs');
    for (let i = 0; i < lines.length; i += 2) {
      t.same(lines[i], { create: { _index: 'th-test', _id: lines[i + 1].event.id } });
    }
  }
  onceEach(t, rx, 10);
  t.same(sink.stats(), { sent: 10, retried: 0, spooled: 0, dropped: 0, queued: 0 });
});

t.test('500 then 429 then 200: retried, each alert once', async (t) => {
  const rx = new Receiver();
  rx.plan = [500, 429];
  const port = await rx.listen();
  t.teardown(() => rx.close());
  const sink = createHttpSink({ name: 'es-r', url: `http://127.0.0.1:${port}`,
    format: 'elasticsearch', batchMaxLines: 50, ...FAST });
  pushAll(sink, 20);
  await until('20 delivered', () => sink.stats().sent === 20);
  await sink.close(2000);
  t.equal(sink.stats().retried, 2, 'two retries');
  t.equal(rx.requests.length, 3);
  onceEach(t, rx, 20);
  t.ok([...rx.arrivals.values()].every((n) => n === 1), 'no duplicate on the wire');
  t.match(rx.requests[2].text.split('\n')[0], /"_index":"tunnelhound"/, 'default index');
});

t.test('a duplicate already stored (409) counts as sent; a bad item as dropped', async (t) => {
  const rx = new Receiver();
  const port = await rx.listen();
  t.teardown(() => rx.close());
  rx.docs.set('id-1', {}); // as if an earlier retry had gone in
  const sink = createHttpSink({ name: 'es-d', url: `http://127.0.0.1:${port}`,
    format: 'elasticsearch', gzip: false, ...FAST });
  pushAll(sink, 3);
  sink.push('{"truncated', 'alert');
  await sink.close(3000);
  t.equal(rx.requests[0].headers['content-encoding'], undefined, 'gzip off');
  t.same(sink.stats(), { sent: 3, retried: 0, spooled: 0, dropped: 1, queued: 0 });
});

t.test('_bulk per item: 429 sent again, 400 dropped; odd answers retried', async (t) => {
  const rx = new Receiver();
  const port = await rx.listen();
  t.teardown(() => rx.close());
  const item = (status: number) => ({ create: { status } });
  rx.answers = [
    'not json',
    JSON.stringify({ errors: true, items: [item(201)] }), // fewer items than documents
    JSON.stringify({ errors: true, items: [item(201), item(429), item(400)] }),
  ];
  const sink = createHttpSink({ name: 'es-i', url: `http://127.0.0.1:${port}`,
    format: 'elasticsearch', batchMaxLines: 3, ...FAST });
  pushAll(sink, 3);
  await until('all accounted', () => sink.stats().sent + sink.stats().dropped === 3);
  await sink.close(2000);
  t.same(sink.stats(), { sent: 2, retried: 3, spooled: 0, dropped: 1, queued: 0 });
  t.same([...rx.arrivals.keys()], ['id-1'], 'only the busy item was sent again');
  t.equal(rx.requests.length, 4);
});

t.test('splunk HEC: event objects with time and sourcetype; 503 retried, 400 dropped',
  async (t) => {
    const rx = new Receiver();
    rx.plan = [503];
    const port = await rx.listen();
    t.teardown(() => rx.close());
    const token = 'Splunk 12345678-abcd';
    const sink = createHttpSink({ name: 'hec', url: `http://127.0.0.1:${port}`,
      format: 'splunk', authHeader: token, gzip: true, batchMaxLines: 100, ...FAST });
    pushAll(sink, 6);
    await until('6 delivered', () => sink.stats().sent === 6);
    const last = rx.requests[rx.requests.length - 1];
    t.equal(last.path, '/services/collector/event');
    t.equal(last.headers.authorization, token);
    const objs = parseConcatenated(last.text);
    t.equal(objs.length, 6);
    t.same(objs[0], { time: Date.UTC(2026, 0, 1) / 1000, sourcetype: 'tunnelhound:alert',
      source: 'tunnelhound', event: JSON.parse(alert(0)) });
    t.equal(objs[1].sourcetype, 'tunnelhound:flow');
    t.equal(objs[1].time, Date.UTC(2026, 0, 1, 0, 0, 1) / 1000);

    rx.plan = [400];
    sink.push(alert(100), 'alert');
    await until('the 400 batch dropped', () => sink.stats().dropped === 1);
    await sink.close(2000);
    t.equal(sink.stats().retried, 1);
    onceEach(t, rx, 6);
  });

t.test('receiver down at start, up a second later: every alert once', async (t) => {
  const probe = new Receiver();
  const port = await probe.listen();
  await probe.close(); // the port is now free and nothing listens there
  const sink = createHttpSink({ name: 'late', url: `http://127.0.0.1:${port}`,
    format: 'elasticsearch', batchMaxLines: 10, ...FAST });
  pushAll(sink, 15);
  await until('a refused attempt', () => sink.stats().retried >= 1);
  await new Promise((r) => setTimeout(r, 1000));
  const rx = new Receiver();
  await rx.listen(port);
  t.teardown(() => rx.close());
  pushAll(sink, 15, 15);
  await until('all ids delivered', () => rx.arrivals.size === 30);
  await sink.close(3000);
  onceEach(t, rx, 30);
  t.ok([...rx.arrivals.values()].every((n) => n === 1), 'none arrived twice');
  t.equal(sink.stats().sent, 30, 'each counted once as sent');
});

t.test('receiver down for the whole run: spooled, a second run delivers', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-http-spool-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const probe = new Receiver();
  const port = await probe.listen();
  await probe.close();
  const opts = { name: 'down', url: `http://127.0.0.1:${port}`, format: 'splunk' as const,
    spoolDir: dir, ...FAST };

  const first = createHttpSink(opts);
  pushAll(first, 25);
  await first.close(300);
  t.equal(first.stats().sent, 0);
  t.equal(first.stats().spooled, 25, 'all spooled');
  const onDisk = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('').trimEnd().split('\n');
  t.equal(onDisk.length, 25, 'lines in the spool dir');

  const rx = new Receiver();
  await rx.listen(port);
  t.teardown(() => rx.close());
  const second = createHttpSink(opts);
  await until('the spool delivered', () => rx.arrivals.size === 25);
  await second.close(2000);
  onceEach(t, rx, 25);
  t.equal(second.stats().sent, 25);
  t.same(fs.readdirSync(dir), [], 'spool empty');
});

t.test('bad options carry a code and name the option', async (t) => {
  t.throws(() => createHttpSink({ url: 'ftp://x', format: 'splunk' }),
    { code: 'ERR_SINK_OPTION', message: /--http/ });
  t.throws(() => createHttpSink({ url: 'nope', format: 'splunk' }), { code: 'ERR_SINK_OPTION' });
  t.throws(() => createHttpSink({ url: 'http://x', format: 'x' as 'splunk' }),
    { code: 'ERR_SINK_OPTION', message: /--http-format/ });
});
