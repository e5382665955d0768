// Capture layer over libpcap: files from the shared public corpus checked against their
// MANIFEST and against tcpdump, argument checks on both sides of the addon boundary, and a
// live capture on a veth pair in a private network namespace.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import t, { Test } from 'tap';

import { recordSize } from '../src/capture/batch-format';
import {
  CaptureError,
  forEachRecord,
  MIN_BATCH_BYTES,
  PcapHandle,
} from '../src/capture/pcap';
import {
  CORPUS_DIR,
  readAllRecords,
  readManifest,
  REPO_ROOT,
  tcpdumpTimestamps,
} from './helpers/capture-corpus';
import { createVethLab, sendUdpFromNamespace } from './helpers/capture-netns';

const MIB = 1024 * 1024;
const manifest = readManifest();
const byName = (file: string) => {
  const row = manifest.find((r) => r.file === file);
  if (!row) throw new Error(`${file} not in MANIFEST.tsv`);
  return row;
};
const firstOf = (pred: (r: (typeof manifest)[number]) => boolean) => {
  const row = manifest.find(pred);
  if (!row) throw new Error('no MANIFEST row matches');
  return row;
};

const classicPcap = byName('ndpi__1kxun.pcap');
const pcapng = firstOf((r) => r.format === 'pcapng' && r.packets >= 50);
const nsecPcap = firstOf((r) => r.format === 'nsecpcap');
const sshPcap = byName('zeek__ssh__ssh.pcap');

function expectCaptureError(t: Test, fn: () => unknown, code: string, message: RegExp) {
  try {
    fn();
    t.fail(`expected ${code}`);
  } catch (err) {
    t.type(err, CaptureError);
    t.equal((err as CaptureError).code, code);
    t.match((err as Error).message, message);
  }
}

t.test('every MANIFEST capture: packet count and timestamps match MANIFEST and tcpdump', (t) => {
  t.ok(manifest.length >= 10, `MANIFEST lists ${manifest.length} captures`);
  for (const row of manifest) {
    const summary = readAllRecords(row.path, MIB);
    const reference = tcpdumpTimestamps(row.path);
    t.equal(summary.packets, row.packets, `${row.file}: count = MANIFEST`);
    t.same(summary.records.map((r) => r.ts), reference, `${row.file}: timestamps = tcpdump`);
  }
  t.end();
});

t.test('formats: classic pcap, nanosecond pcap and pcapng all open', (t) => {
  for (const row of [classicPcap, nsecPcap, pcapng]) {
    const summary = readAllRecords(row.path, MIB);
    t.equal(summary.packets, row.packets, `${row.format} ${row.file}`);
  }
  // The corpus nanosecond file only holds whole microseconds, so give its first packet a
  // fraction with all nine digits and check they survive, as tcpdump also shows them.
  const bytes = Buffer.from(fs.readFileSync(nsecPcap.path));
  t.equal(bytes.readUInt32LE(0), 0xa1b23c4d, 'little-endian nanosecond magic');
  bytes.writeUInt32LE(123_456_789, 24 + 4);
  const crafted = path.join(os.tmpdir(), `tunnelhound-nsec-${process.pid}.pcap`);
  fs.writeFileSync(crafted, bytes);
  t.teardown(() => fs.rmSync(crafted, { force: true }));
  const first = readAllRecords(crafted, MIB).records[0].ts;
  t.match(first, /\.123456789$/, 'all nine digits kept');
  t.equal(first, tcpdumpTimestamps(crafted)[0], 'same as tcpdump');
  t.end();
});

t.test('classic pcap files rebuilt from the batches equal the original bytes', (t) => {
  const classic = manifest.filter((r) => r.format === 'pcap' || r.format === 'nsecpcap');
  for (const row of classic) {
    const original = fs.readFileSync(row.path);
    const magic = original.readUInt32LE(0);
    const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const parts: Buffer[] = [original.subarray(0, 24)];
    for (const r of readAllRecords(row.path, 256 * 1024).records) {
      const [sec, frac] = r.ts.split('.').map(Number);
      const header = Buffer.alloc(16);
      const put = (v: number, at: number) =>
        little ? header.writeUInt32LE(v, at) : header.writeUInt32BE(v, at);
      put(sec, 0);
      put(nano ? frac : frac / 1000, 4);
      put(r.caplen, 8);
      put(r.origlen, 12);
      parts.push(header, r.data);
    }
    t.ok(Buffer.concat(parts).equals(original), `${row.file} byte for byte`);
  }
  t.end();
});

t.test('datalink names for Ethernet, Linux cooked v1/v2, raw IP and BSD loopback', (t) => {
  const expected: Record<string, { type: number; name: string }> = {
    ether: { type: 1, name: 'EN10MB' },
    'linux-sll': { type: 113, name: 'LINUX_SLL' },
    'linux-sll2': { type: 276, name: 'LINUX_SLL2' },
    rawip: { type: 12, name: 'RAW' },
    null: { type: 0, name: 'NULL' },
  };
  for (const [linkType, want] of Object.entries(expected)) {
    const row = firstOf((r) => r.linkType === linkType);
    const handle = PcapHandle.openFile(row.path);
    const link = handle.datalink();
    handle.close();
    t.equal(link.type, want.type, `${linkType} type (${row.file})`);
    t.equal(link.name, want.name, `${linkType} name`);
    t.ok(link.description.length > 0 && link.description !== link.name, link.description);
  }
  t.end();
});

t.test('BPF filter keeps what tcpdump keeps', (t) => {
  const handle = PcapHandle.openFile(sshPcap.path);
  handle.setFilter('tcp port 22');
  const buf = new Uint8Array(MIB);
  const stamps: string[] = [];
  for (let eof = false; !eof; ) {
    const result = handle.readBatch(buf);
    forEachRecord(buf, result.bytes, (_at, _cap, _orig, sec, nsec) => {
      stamps.push(`${sec}.${String(nsec).padStart(9, '0')}`);
    });
    eof = result.eof;
  }
  handle.close();
  const reference = tcpdumpTimestamps(sshPcap.path, 'tcp port 22');
  t.ok(reference.length > 0 && reference.length < sshPcap.packets, 'filter is selective');
  t.equal(stamps.length, reference.length, 'count = tcpdump');
  t.same(stamps, reference, 'same packets as tcpdump');
  t.end();
});

t.test('bad filter, missing file, non-capture file', (t) => {
  const handle = PcapHandle.openFile(classicPcap.path);
  expectCaptureError(t, () => handle.setFilter('tcp porr 22'), 'ERR_CAPTURE_FILTER',
    /^invalid capture filter "tcp porr 22": .*syntax error/);
  // A rejected filter leaves the handle usable and unfiltered.
  t.equal(readAllFrom(handle), classicPcap.packets);
  handle.close();

  const missing = path.join(os.tmpdir(), `tunnelhound-missing-${process.pid}.pcap`);
  expectCaptureError(t, () => PcapHandle.openFile(missing), 'ERR_CAPTURE_OPEN',
    new RegExp(`^cannot open capture ${escapeRe(missing)}: No such file or directory$`));
  const notCapture = path.join(CORPUS_DIR, 'MANIFEST.tsv');
  expectCaptureError(t, () => PcapHandle.openFile(notCapture), 'ERR_CAPTURE_OPEN',
    new RegExp(`^cannot open capture ${escapeRe(notCapture)}: unknown file format$`));
  t.end();
});

t.test('a truncated file hands over its whole packets, then fails with libpcap text', (t) => {
  const original = fs.readFileSync(classicPcap.path);
  const cut = path.join(os.tmpdir(), `tunnelhound-cut-${process.pid}.pcap`);
  fs.writeFileSync(cut, original.subarray(0, 24 + 3 * 16 + 200));
  t.teardown(() => fs.rmSync(cut, { force: true }));
  const whole = readAllRecords(classicPcap.path, MIB).records;
  // Count the records that lie entirely inside the cut.
  let end = 24;
  let complete = 0;
  for (const r of whole) {
    end += 16 + r.caplen;
    if (end > 24 + 3 * 16 + 200) break;
    complete += 1;
  }
  const handle = PcapHandle.openFile(cut);
  const buf = new Uint8Array(MIB);
  const first = handle.readBatch(buf);
  t.equal(first.packets, complete, 'whole packets first');
  t.equal(first.eof, false);
  expectCaptureError(t, () => handle.readBatch(buf), 'ERR_CAPTURE_READ', /truncated dump file/);
  handle.close();
  t.end();
});

t.test('small buffers and maxPackets give the same packets and bytes as a big buffer', (t) => {
  const big = readAllRecords(classicPcap.path, 4 * MIB);
  t.equal(big.batches, 1, 'one batch holds the whole file');
  const maxCaplen = Math.max(...big.records.map((r) => r.caplen));
  for (const [bufBytes, maxPackets] of [
    // Just big enough for the largest packet (a 37 KB offloaded segment), and 3 bytes more
    // so the capacity is not a multiple of the record alignment.
    [recordSize(maxCaplen), undefined],
    [recordSize(maxCaplen) + 3, undefined],
    [MIB, 7],
    [MIB, 1],
  ] as const) {
    const small = readAllRecords(classicPcap.path, bufBytes, maxPackets);
    const label = `buffer ${bufBytes}, maxPackets ${maxPackets ?? 'default'}`;
    t.ok(small.batches > 10, `${label}: ${small.batches} batches`);
    t.equal(small.packets, big.packets, `${label}: packets`);
    t.equal(small.bytes, big.bytes, `${label}: bytes`);
    t.ok(small.records.every((r, i) => r.data.equals(big.records[i].data)), `${label}: data`);
  }
  t.end();
});

t.test('a buffer smaller than one packet truncates it and keeps reading', (t) => {
  const tiny = 64;
  const full = readAllRecords(classicPcap.path, MIB).records;
  const handle = PcapHandle.openFile(classicPcap.path);
  const buf = new Uint8Array(tiny);
  const seen: Array<{ caplen: number; origlen: number }> = [];
  for (let eof = false; !eof; ) {
    const result = handle.readBatch(buf);
    forEachRecord(buf, result.bytes, (_at, caplen, origlen) => seen.push({ caplen, origlen }));
    eof = result.eof;
  }
  const oversized = full.filter((r) => recordSize(r.caplen) > tiny).length;
  t.equal(seen.length, classicPcap.packets, 'every packet delivered');
  t.ok(oversized > 0, `${oversized} packets exceed ${tiny} bytes`);
  t.equal(handle.truncatedPackets, oversized, 'each oversized packet counted');
  t.ok(seen.every((s, i) => s.origlen === full[i].origlen), 'origlen kept');
  t.ok(
    seen.every((s, i) => s.caplen === Math.min(full[i].caplen, tiny - 16)),
    'caplen cut to what fits (48)',
  );
  handle.close();
  t.equal(handle.truncatedPackets, oversized, 'count survives close');
  t.end();
});

t.test('stats, close and use after close', (t) => {
  const handle = PcapHandle.openFile(classicPcap.path);
  t.equal(handle.stats(), null, 'files have no kernel counters');
  t.equal(handle.live, false);
  t.equal(handle.warning, null);
  handle.close();
  handle.close();
  t.equal(handle.closed, true);
  expectCaptureError(t, () => handle.datalink(), 'ERR_CAPTURE_CLOSED', /closed/);
  expectCaptureError(t, () => handle.readBatch(new Uint8Array(64)), 'ERR_CAPTURE_CLOSED', /closed/);
  t.doesNotThrow(() => handle.breakLoop(), 'breakLoop after close is a no-op');
  t.end();
});

t.test('argument checks in TypeScript', (t) => {
  const handle = PcapHandle.openFile(classicPcap.path);
  t.teardown(() => handle.close());
  const arg = /must/;
  expectCaptureError(t, () => PcapHandle.openFile(''), 'ERR_CAPTURE_ARG', /must not be empty/);
  expectCaptureError(t, () => PcapHandle.openFile('a\0b'), 'ERR_CAPTURE_ARG', /NUL/);
  expectCaptureError(t, () => PcapHandle.openLive({ device: 'lo', snaplen: 0 }),
    'ERR_CAPTURE_ARG', /snaplen must be an integer from 1 to 262144, got 0/);
  expectCaptureError(t, () => PcapHandle.openLive({ device: 'lo', timeoutMs: 1.5 }),
    'ERR_CAPTURE_ARG', /timeoutMs/);
  expectCaptureError(t, () => handle.readBatch(new Uint16Array(64) as never),
    'ERR_CAPTURE_ARG', /Uint8Array/);
  expectCaptureError(t, () => handle.readBatch(new Uint8Array(MIN_BATCH_BYTES - 1)),
    'ERR_CAPTURE_ARG', new RegExp(`at least ${MIN_BATCH_BYTES} bytes`));
  expectCaptureError(t, () => handle.readBatch(new Uint8Array(64), 0), 'ERR_CAPTURE_ARG', arg);
  expectCaptureError(t, () => handle.setFilter(42 as never), 'ERR_CAPTURE_ARG', arg);
  const bad = new Uint8Array(64);
  bad[0] = 200; // caplen 200 in a 64-byte batch
  expectCaptureError(t, () => forEachRecord(bad, 64, () => {}), 'ERR_CAPTURE_BATCH', /overruns/);
  t.end();
});

t.test('argument checks again in C++ (addon called directly)', (t) => {
  const addon = require(path.join(REPO_ROOT, 'build/Release/tunnelhound_pcap.node'));
  const native = addon.openFile(classicPcap.path);
  t.teardown(() => native.close());
  const cases: Array<[string, () => unknown, string]> = [
    ['openFile(number)', () => addon.openFile(7), 'TypeError'],
    ['openLive(no args)', () => addon.openLive(), 'TypeError'],
    ['openLive(snaplen NaN)', () => addon.openLive('lo', NaN, true, 1e6, 100), 'RangeError'],
    ['readBatch(string)', () => native.readBatch('x', 1), 'TypeError'],
    ['readBatch(tiny)', () => native.readBatch(new Uint8Array(8), 1), 'RangeError'],
    ['readBatch(max -1)', () => native.readBatch(new Uint8Array(64), -1), 'RangeError'],
    ['readBatch(max 2^32)', () => native.readBatch(new Uint8Array(64), 2 ** 32), 'RangeError'],
    ['readBatchAsync(no cb)', () => native.readBatchAsync(new Uint8Array(64), 1), 'TypeError'],
    ['setFilter(null)', () => native.setFilter(null), 'TypeError'],
  ];
  for (const [label, fn, name] of cases) {
    t.throws(fn, { name, code: 'ERR_CAPTURE_ARG' }, label);
  }
  // A handle constructed by hand has no capture behind it and says so.
  const orphan = new native.constructor();
  t.throws(() => orphan.datalink(), { code: 'ERR_CAPTURE_CLOSED' }, 'orphan handle');
  t.end();
});

t.test('readBatchAsync on a file; one read in flight per handle', async (t) => {
  const handle = PcapHandle.openFile(classicPcap.path);
  const buf = new Uint8Array(16 * 1024);
  const other = new Uint8Array(16 * 1024);
  let packets = 0;
  const first = handle.readBatchAsync(buf);
  await t.rejects(handle.readBatchAsync(other), { code: 'ERR_CAPTURE_BUSY' });
  t.throws(() => handle.readBatch(other), { code: 'ERR_CAPTURE_BUSY' });
  for (let result = await first; ; result = await handle.readBatchAsync(buf)) {
    packets += result.packets;
    if (result.eof) break;
  }
  t.equal(packets, classicPcap.packets);
  handle.close();
  await t.rejects(handle.readBatchAsync(buf), { code: 'ERR_CAPTURE_CLOSED' });
});

t.test('works inside worker_threads (per-environment addon state)', async (t) => {
  const wrapper = path.join(__dirname, '../src/capture/pcap.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { PcapHandle } = require(workerData.wrapper);
    const h = PcapHandle.openFile(workerData.file);
    const buf = new Uint8Array(65536);
    let n = 0;
    for (let r = h.readBatch(buf); ; r = h.readBatch(buf)) { n += r.packets; if (r.eof) break; }
    h.close();
    parentPort.postMessage(n);`;
  const runOne = () =>
    new Promise<number>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { wrapper, file: sshPcap.path } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const counts = await Promise.all([runOne(), runOne(), runOne()]);
  t.same(counts, [sshPcap.packets, sshPcap.packets, sshPcap.packets]);
});

const notRoot = typeof process.getuid === 'function' && process.getuid() !== 0;
const liveOnly = { skip: notRoot && 'live capture needs root' };

t.test('live capture on a veth pair', liveOnly, async (t) => {
  const lab = createVethLab();
  t.teardown(() => lab.destroy());
  const port = 40_000 + (process.pid % 20_000);
  const sent = 20;
  const payload = 300;

  // snaplen below the frame size proves the option reaches pcap_set_snaplen.
  const handle = PcapHandle.openLive({ device: lab.hostIf, snaplen: 128, timeoutMs: 50 });
  t.teardown(() => handle.close());
  t.equal(handle.live, true);
  t.same(handle.datalink(), { type: 1, name: 'EN10MB', description: 'Ethernet' });
  handle.setFilter(`udp and dst port ${port}`);

  const startSec = Math.floor(Date.now() / 1000);
  sendUdpFromNamespace(lab, port, sent, payload);
  const buf = new Uint8Array(MIB);
  const frames: Array<{ caplen: number; origlen: number; tsSec: number; seq: number }> = [];
  const deadline = Date.now() + 10_000;
  while (frames.length < sent && Date.now() < deadline) {
    const result = await handle.readBatchAsync(buf);
    t.equal(result.eof, false);
    forEachRecord(buf, result.bytes, (at, caplen, origlen, tsSec) => {
      // Ethernet 14 + IPv4 20 + UDP 8, then our big-endian sequence number.
      const seq = Buffer.from(buf.buffer, buf.byteOffset + at + 42, 4).readUInt32BE(0);
      frames.push({ caplen, origlen, tsSec, seq });
    });
  }
  t.equal(frames.length, sent, 'every datagram captured, nothing else');
  t.same(frames.map((f) => f.seq), [...Array(sent).keys()], 'in order');
  t.ok(frames.every((f) => f.caplen === 128 && f.origlen === 14 + 20 + 8 + payload), 'snaplen');
  const nowSec = Math.floor(Date.now() / 1000);
  t.ok(frames.every((f) => f.tsSec >= startSec - 1 && f.tsSec <= nowSec + 1), 'wall-clock ts');

  const stats = handle.stats();
  t.ok(stats && stats.received >= sent, `stats.received ${stats?.received} >= ${sent}`);
  t.equal(stats?.dropped, 0);

  // No traffic matches: the read must still come back, after about timeoutMs.
  handle.setFilter('udp and dst port 9');
  const quietStart = process.hrtime.bigint();
  const quiet = await handle.readBatchAsync(buf);
  const quietMs = Number(process.hrtime.bigint() - quietStart) / 1e6;
  t.equal(quiet.packets, 0);
  t.ok(quietMs >= 40 && quietMs < 2000, `empty read returned after ${quietMs.toFixed(1)} ms`);
});

t.test('live: breakLoop and close end a long read promptly', liveOnly, async (t) => {
  const handle = PcapHandle.openLive({ device: 'lo', timeoutMs: 1000, promiscuous: false });
  handle.setFilter('udp and dst port 9');
  const buf = new Uint8Array(64 * 1024);

  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  const started = Date.now();
  const pending = handle.readBatchAsync(buf);
  setTimeout(() => handle.breakLoop(), 100);
  const broken = await pending;
  const brokenMs = Date.now() - started;
  clearInterval(timer);
  t.equal(broken.packets, 0);
  t.ok(brokenMs < 600, `breakLoop ended the read after ${brokenMs} ms, not 1000`);
  t.ok(ticks >= 5, `event loop ran ${ticks} timer ticks during the read`);

  const inFlight = handle.readBatchAsync(buf);
  const closeStart = Date.now();
  setTimeout(() => handle.close(), 50);
  const closed = await inFlight;
  t.equal(closed.packets, 0, 'read in flight settles after close');
  t.ok(Date.now() - closeStart < 600, 'close did not wait for the 1 s timeout');
  t.equal(handle.closed, true);
  t.throws(() => handle.stats(), { code: 'ERR_CAPTURE_CLOSED' });
});

// Regression: a read completing during worker teardown used to hit a failed napi_throw,
// which Node turns into a fatal error for the whole process.
t.test('live: terminating a worker with a read in flight', liveOnly, async (t) => {
  const wrapper = path.join(__dirname, '../src/capture/pcap.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { PcapHandle } = require(workerData.wrapper);
    const h = PcapHandle.openLive({ device: 'lo', timeoutMs: 1000 });
    h.setFilter('udp and dst port 9');
    h.readBatchAsync(new Uint8Array(65536));
    parentPort.postMessage('reading');`;
  const worker = new Worker(code, { eval: true, workerData: { wrapper } });
  await new Promise((resolve) => worker.once('message', resolve));
  const started = Date.now();
  const exitCode = await worker.terminate();
  t.equal(exitCode, 1, 'terminated, not crashed');
  t.ok(Date.now() - started < 3000, 'teardown waited at most about one timeout');
});

t.test('live: open errors carry libpcap text', liveOnly, (t) => {
  expectCaptureError(t, () => PcapHandle.openLive({ device: 'thnosuchdev0' }), 'ERR_CAPTURE_OPEN',
    /^cannot open capture on thnosuchdev0: .*(No such device|doesn't exist)/);
  t.end();
});

function readAllFrom(handle: PcapHandle): number {
  const buf = new Uint8Array(MIB);
  let packets = 0;
  for (let eof = false; !eof; ) {
    const result = handle.readBatch(buf);
    packets += result.packets;
    eof = result.eof;
  }
  return packets;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
