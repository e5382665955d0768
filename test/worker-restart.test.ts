// A shard worker that dies mid-run: replaced, its loss counted exactly, the run goes on (live),
// or the run fails (replay). The death is real: a batch message the worker cannot read makes
// it throw an uncaught error inside its own thread. That message is posted through the
// pipeline's private worker handle, a path no production caller has.

import t from 'tap';
import path from 'node:path';
import { PcapHandle } from '../src/capture/pcap';
import { RECORD_HEADER_BYTES, recordSize } from '../src/capture/batch-format';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { DecodeCounters, decodePacket } from '../src/decode/decode';
import { newDecodedPacket } from '../src/decode/packet';
import { FlowRecord } from '../src/flow/flow-record';
import { Pipeline, WorkerLoss } from '../src/pipeline/dispatcher';
import { ShardKeyer } from '../src/pipeline/shard-key';
import {
  MAX_RESTARTS_IN_WINDOW, RESTART_WINDOW_MS, RestartBudget,
} from '../src/pipeline/worker-restarts';
import { PCAPS } from './helpers/cli';

const WORKERS = 2;

interface Batch {
  buf: Uint8Array;
  bytes: number;
  linkType: number;
  lastSec: number;
  /** Packets in the batch. */
  records: number;
}

/** A whole (small) capture as one batch. */
function readCapture(name: string): Batch {
  const h = PcapHandle.openFile(path.join(PCAPS, name));
  const buf = new Uint8Array(new ArrayBuffer(4 * 1024 * 1024));
  const r = h.readBatch(buf);
  const linkType = h.datalink().type;
  h.close();
  if (!r.eof) throw new Error(`${name} does not fit one test batch`);
  let lastSec = 0;
  let records = 0;
  const words = new Uint32Array(buf.buffer, 0, r.bytes >>> 2);
  for (let off = 0; off + RECORD_HEADER_BYTES <= r.bytes; off += recordSize(words[off >>> 2])) {
    lastSec = words[(off >>> 2) + 2];
    records++;
  }
  return { buf, bytes: r.bytes, linkType, lastSec, records };
}

/** Packets of a batch the dispatcher routes to `shard`, counted on our own. */
function packetsForShard(b: Batch, shard: number): number {
  // The dispatcher's own keyer: undecodable packets go to shard 0, which counts them.
  const keyer = new ShardKeyer();
  const words = new Uint32Array(b.buf.buffer, 0, b.bytes >>> 2);
  let n = 0;
  for (let off = 0; off + RECORD_HEADER_BYTES <= b.bytes;) {
    const caplen = words[off >>> 2];
    if ((keyer.key(b.buf, off + RECORD_HEADER_BYTES, caplen, b.linkType) >>> 0) % WORKERS ===
      shard) n++;
    off += recordSize(caplen);
  }
  return n;
}

/** Packets of the batch the full decoder takes (not counted as an anomaly). */
function decodablePackets(b: Batch): number {
  const p = newDecodedPacket();
  const counters = new DecodeCounters();
  const words = new Uint32Array(b.buf.buffer, 0, b.bytes >>> 2);
  let n = 0;
  for (let off = 0; off + RECORD_HEADER_BYTES <= b.bytes;) {
    const caplen = words[off >>> 2];
    if (decodePacket(b.buf, off + RECORD_HEADER_BYTES, caplen, b.linkType, p, counters)) n++;
    off += recordSize(caplen);
  }
  return n;
}

/** Which shard a flow record came from (flowId starts with the shard number). */
function shardOf(r: FlowRecord): number {
  return Number(r.flowId.split(':')[0]);
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The private parts a test may reach: the shards and their workers.
interface ShardView {
  worker: { postMessage(m: unknown): void };
  lastStats: { flowsInTable: number } | null;
}
const shardsOf = (p: Pipeline) => (p as unknown as { shards: ShardView[] }).shards;

/** Make one shard worker throw inside its thread: a batch message without a buffer. */
function poison(p: Pipeline, shard: number): void {
  shardsOf(p)[shard].worker.postMessage({ type: 'batch', buf: null, bytes: 64, linkType: 1 });
}

t.test('a worker that dies is replaced; lost packets and flows are counted', async (t) => {
  const ssh = readCapture('ssh-on-443.pcap');
  const records: FlowRecord[] = [];
  const losses: WorkerLoss[] = [];
  const p = new Pipeline({
    workers: WORKERS, flowTable: DEFAULT_CONFIG.flowTable, onRecord: (r) => records.push(r),
    restartWorkers: true, onWorkerLoss: (l) => losses.push(l),
  });
  t.teardown(() => p.destroy());

  await p.feed(ssh.buf, ssh.bytes, ssh.linkType);
  await p.tick(ssh.lastSec);
  await until('tick statistics', () => shardsOf(p).every((s) => s.lastStats !== null));
  // The capture has one flow: the shard holding it is the one to kill.
  const held = shardsOf(p).map((s) => s.lastStats!.flowsInTable);
  const victim = held[0] === 1 ? 0 : 1;
  t.same(held.slice().sort(), [0, 1], `one shard holds the SSH flow (${held})`);
  t.same(p.liveStats().workersDown, [], 'both workers up before the crash');

  // The poison goes first; the same flow's packets again queue behind it and die unread.
  poison(p, victim);
  await p.feed(ssh.buf, ssh.bytes, ssh.linkType);
  await p.tick(ssh.lastSec);
  const inFlight = packetsForShard(ssh, victim);
  // Shard 0 also takes the packets nothing can decode (to count them).
  const ip = decodablePackets(ssh);
  t.equal(ip, 151);
  t.equal(inFlight, victim === 0 ? ssh.records : ip,
    'every packet of the flow was in flight to the victim');
  await until('the loss report', () => losses.length === 1);
  t.equal(losses[0].shard, victim);
  t.match(losses[0].error.message, /Invalid typed array length/, 'the worker\'s own error');
  t.equal(losses[0].packets, inFlight, `the unprocessed batch is counted (${inFlight})`);
  t.equal(losses[0].flows, held[victim], 'the flows it held are counted');
  t.equal(losses[0].restarts, 1);
  const live = p.liveStats();
  t.equal(live.workerRestarts, 1);
  t.equal(live.lostPackets, inFlight);
  t.equal(live.lostFlows, held[victim]);
  await until('the replacement to start', () => p.liveStats().workersDown.length === 0);

  // The run goes on: new traffic reaches both shards, the replacement included.
  for (const name of ['random-on-80.pcap', 'openssl-on-80.pcap']) {
    const c = readCapture(name);
    await p.feed(c.buf, c.bytes, c.linkType);
  }
  const stats = await p.finish();
  t.equal(stats.workerRestarts, 1);
  t.equal(stats.lostPackets, inFlight);
  t.equal(stats.lostFlows, 1);
  const finals = records.filter((r) => r.final);
  t.equal(finals.filter((r) => r.serverPort === 80).length, 3,
    'the three port-80 flows sent after the restart are all reported');
  t.equal(finals.filter((r) => r.serverPort === 443).length, 0,
    'the SSH flow died with its worker, unreported');
  const shards = new Set(finals.filter((r) => r.serverPort === 80).map(shardOf));
  t.ok(shards.size >= 1, `port-80 flows from shards ${[...shards]}`);
});

t.test('without restarts (replay) a dead worker fails the run', async (t) => {
  const ssh = readCapture('ssh-on-443.pcap');
  const p = new Pipeline({
    workers: WORKERS, flowTable: DEFAULT_CONFIG.flowTable, onRecord: () => {},
  });
  t.teardown(() => p.destroy());
  await p.feed(ssh.buf, ssh.bytes, ssh.linkType);
  poison(p, 0);
  await until('the worker to die', () => p.liveStats().workersDown.includes(0));
  await t.rejects(p.finish(), /Invalid typed array length/,
    'finish reports the worker\'s error');
  t.equal(p.liveStats().workerRestarts, 0, 'nothing replaced');
});

t.test('a worker that keeps dying ends the run after the restart budget', async (t) => {
  const losses: WorkerLoss[] = [];
  const p = new Pipeline({
    workers: WORKERS, flowTable: DEFAULT_CONFIG.flowTable, onRecord: () => {},
    restartWorkers: true, onWorkerLoss: (l) => losses.push(l),
  });
  t.teardown(() => p.destroy());
  for (let i = 1; i <= MAX_RESTARTS_IN_WINDOW; i++) {
    poison(p, 1);
    await until(`restart ${i}`, () => losses.length === i);
  }
  poison(p, 1);
  let failure: Error | null = null;
  await until('the run to fail', () => {
    p.tick(1).catch((err: Error) => {
      failure = err;
    });
    return failure !== null;
  });
  t.match(String(failure), /after 5 restarts within 60 s; giving up/);
  t.equal(losses.length, MAX_RESTARTS_IN_WINDOW, 'no restart past the budget');
});

t.test('restart budget: a window of RESTART_WINDOW_MS, loss tallied even when refused',
  async (t) => {
    let now = 1_000_000;
    const b = new RestartBudget(() => now);
    const loss = (): WorkerLoss =>
      ({ shard: 0, code: 1, error: new Error('x'), packets: 3, flows: 2, restarts: 0 });
    for (let i = 0; i < MAX_RESTARTS_IN_WINDOW; i++) {
      const l = loss();
      t.equal(b.take(l), null);
      t.equal(l.restarts, i + 1);
      now += 1000;
    }
    t.match(String(b.take(loss())), /giving up/, 'one more within the window is refused');
    t.equal(b.count, MAX_RESTARTS_IN_WINDOW);
    t.equal(b.lostPackets, 3 * (MAX_RESTARTS_IN_WINDOW + 1));
    t.equal(b.lostFlows, 2 * (MAX_RESTARTS_IN_WINDOW + 1));
    // The first death leaves the window: one more restart is allowed, then refused again.
    now = 1_000_000 + RESTART_WINDOW_MS;
    t.equal(b.take(loss()), null);
    t.not(b.take(loss()), null);
  });
