import t from 'tap';
import { FlowTable, FlowTableOptions } from '../src/flow/flow-table';
import { FlowRecord } from '../src/flow/flow-record';
import { flowHashOf } from '../src/flow/flow-hash';
import { entropyOfBytes } from '../src/flow/entropy';
import { DecodedPacket, TCP_FLAG } from '../src/decode/packet';
import { packet, randomBytes } from './helpers/synthetic';

const OPTS: FlowTableOptions = {
  capacity: 64, idleTimeoutSec: 60, closedTimeoutSec: 5, activeTimeoutSec: 300,
  entropyPool: 8, inspectorPool: 4,
};

function table(opts: Partial<FlowTableOptions> = {}) {
  const records: FlowRecord[] = [];
  const tbl = new FlowTable({ ...OPTS, ...opts }, (slot, reason, st) => {
    records.push(st.toRecord(slot, 0, reason));
  });
  const blank: Uint8Array = new Uint8Array(2048);
  const feed = (p: DecodedPacket, ts: number, buf = blank) =>
    tbl.update(p, flowHashOf(p), buf, 60 + p.payloadLength, ts);
  return { tbl, records, feed };
}

t.test('both directions land in one flow with the SYN sender as client', async (t) => {
  const { tbl, records, feed } = table();
  feed(packet({ src: '10.0.0.2', dst: '10.0.0.1', sport: 443, dport: 5555, flags: 0x12 }), 1);
  feed(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5555, dport: 443, flags: 0x10 }), 2);
  t.equal(tbl.size, 1);
  tbl.flush();
  t.equal(records.length, 1);
  const r = records[0];
  t.equal(r.clientIp, '10.0.0.1', 'SYN-ACK sender is the server');
  t.equal(r.serverPort, 443);
  t.same(r.packets, [1, 1]);
  t.equal(r.history, 'hA');
  t.equal(r.reason, 'flush');
});

t.test('capacity bounds the table and every eviction is counted and reported', async (t) => {
  const { tbl, records, feed } = table({ capacity: 16 });
  for (let i = 0; i < 40; i++) {
    feed(packet({ src: '10.1.0.1', dst: '10.2.0.1', sport: 10000 + i, dport: 80 }), 1 + i * 0.01);
  }
  t.equal(tbl.size, 16);
  t.equal(tbl.counters.evictedCapacity, 24);
  t.equal(records.length, 24);
  t.ok(records.every((r) => r.reason === 'evicted'));
  t.same(records.slice(0, 3).map((r) => r.clientPort), [10000, 10001, 10002], 'oldest first');
});

t.test('idle, closed and active timeouts', async (t) => {
  const { tbl, records, feed } = table();
  const a = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 22 };
  const b = { src: '10.0.0.2', dst: '10.0.0.1', sport: 22, dport: 40000 };
  feed(packet({ ...a, flags: TCP_FLAG.SYN }), 100);
  // A second flow that closes with FIN both ways.
  const c = { src: '10.0.0.3', dst: '10.0.0.2', sport: 40001, dport: 80 };
  const d = { src: '10.0.0.2', dst: '10.0.0.3', sport: 80, dport: 40001 };
  feed(packet({ ...c, flags: TCP_FLAG.FIN | TCP_FLAG.ACK }), 100);
  feed(packet({ ...d, flags: TCP_FLAG.FIN | TCP_FLAG.ACK }), 100.5);
  // Keep the first flow alive for 700 s with a packet every 10 s.
  for (let ts = 110; ts <= 800; ts += 10) feed(packet({ ...b, flags: TCP_FLAG.ACK }), ts);
  const closed = records.filter((r) => r.reason === 'closed');
  t.equal(closed.length, 1);
  t.equal(closed[0].serverPort, 80);
  const active = records.filter((r) => r.reason === 'active');
  t.same(active.map((r) => r.reportSeq), [0, 1], 'reported while alive at 300 s and 600 s');
  t.ok(active.every((r) => !r.final));
  tbl.advance(1000);
  const idle = records.filter((r) => r.reason === 'idle');
  t.equal(idle.length, 1);
  t.equal(idle[0].reportSeq, 2);
  t.equal(idle[0].packets[1], 70);
  t.equal(tbl.size, 0);
});

t.test('entropy is sampled per direction with the sample size', async (t) => {
  const { records, feed, tbl } = table();
  const rnd = randomBytes(1000);
  const text = new TextEncoder().encode('GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n'
    .repeat(30));
  for (let i = 0; i < 6; i++) {
    feed(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 80, payload: 1000 }),
      1 + i, rnd);
    feed(packet({ src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 5000, payload: 1000 }),
      1 + i, text);
  }
  tbl.flush();
  const r = records[0];
  t.same(r.entropySample, [4096, 4096], 'stops at the sample size');
  t.ok(r.entropy[0] > 7.5, `random bytes look random (${r.entropy[0]})`);
  t.ok(r.entropy[1] < 5.5, `text looks like text (${r.entropy[1]})`);
  t.equal(r.head[0], Buffer.from(rnd.subarray(0, 64)).toString('hex'));
  t.equal(r.head[1].length, 128);
  t.ok(entropyOfBytes(randomBytes(512)) > 7.8, 'correction lifts a 512-byte random sample');
  t.ok(entropyOfBytes(randomBytes(40)) < 7, '40 bytes cannot claim ciphertext');
});

t.test('entropy pool exhaustion is counted, not fatal', async (t) => {
  const { tbl, feed } = table({ entropyPool: 2 });
  for (let i = 0; i < 5; i++) {
    feed(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 6000 + i, dport: 80, payload: 100 }),
      1);
  }
  t.equal(tbl.state.entropyPoolExhausted, 3);
  for (let i = 0; i < 5; i++) {
    feed(packet({ src: '10.0.0.1', dst: '10.0.0.2', sport: 6000 + i, dport: 80, payload: 100 }),
      2);
  }
  t.equal(tbl.state.entropyPoolExhausted, 3, 'a refused direction is counted once, not retried');
});

t.test('the index stays consistent under heavy churn (backward-shift deletion)', async (t) => {
  const { tbl, records, feed } = table({ capacity: 256, idleTimeoutSec: 5 });
  const live = new Map<number, number>(); // sport -> last ts
  let ts = 0;
  let x = 7;
  for (let i = 0; i < 20000; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const sport = 1024 + (x % 600);
    ts += 0.01;
    feed(packet({ src: '10.9.0.1', dst: '10.9.0.2', sport, dport: 80 }), ts);
    live.set(sport, ts);
  }
  const before = records.length;
  tbl.flush();
  const flushed = records.slice(before);
  const stillLive = [...live.entries()].filter(([, last]) => last >= ts - 5).length;
  t.equal(records.length, tbl.counters.flowsCreated, 'every created flow ended exactly once');
  t.ok(flushed.length <= 256);
  t.ok(flushed.length >= Math.min(stillLive, 256) - 1, 'no live flow lost from the index');
  const ports = new Set(flushed.map((r) => r.clientPort));
  t.equal(ports.size, flushed.length, 'no flow duplicated by a failed lookup');
});

t.test('a new SYN on a closed connection\'s ports starts a new flow', async (t) => {
  const { records, feed, tbl } = table();
  const c = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 80 };
  const s = { src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40000 };
  feed(packet({ ...c, flags: TCP_FLAG.SYN }), 1);
  feed(packet({ ...c, flags: TCP_FLAG.FIN | TCP_FLAG.ACK }), 2);
  feed(packet({ ...s, flags: TCP_FLAG.FIN | TCP_FLAG.ACK }), 2);
  feed(packet({ ...c, flags: TCP_FLAG.SYN }), 3);
  feed(packet({ ...s, flags: TCP_FLAG.SYN | TCP_FLAG.ACK }), 3);
  tbl.flush();
  t.equal(records.length, 2);
  t.same(records.map((r) => r.reason), ['closed', 'flush']);
  t.same(records.map((r) => r.history), ['SAFaf', 'Sh']);
  t.same(records[1].packets, [1, 1]);
});
