// ICMP echo features, the icmp_tunnel, relay and volume_outlier signals and the byte-shape
// test of short cleartext samples: unit cases with values that could be wrong, hostile
// input, and the state bounds. Whole captures are in replay-pcaps.test.ts (our labelled
// pcaps/) and replay-corpus.test.ts (no alert of these signals on the public corpus's benign
// captures), plus the public ICMP tunnel capture at the end of this file.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { ConfigError, configFrom } from '../src/config/load';
import { DetectionEngine } from '../src/detect/engine';
import { cleartextPortEntropy } from '../src/detect/rules';
import { IPPROTO } from '../src/decode/packet';
import { byteShapeOfHex, looksRandom } from '../src/flow/features/byte-shape';
import {
  ECHO_TIMESTAMP_BYTES, ICMP_POOL_MAX, IcmpEchoFeatures,
} from '../src/flow/features/icmp-echo';
import { FlowRecord } from '../src/flow/flow-record';
import { PROTO } from '../src/protocols/identify';
import { judgeIcmpTunnel } from '../src/signals/icmp-tunnel';
import { BUCKETS, LEGS_PER_BUCKET, RelayTracker, relaySignal } from '../src/signals/relay';
import { MAX_PORTS, VolumeHistory, volumeOutlierSignal } from '../src/signals/volume-outlier';
import { CORPUS, parseNdjson, runCli } from './helpers/cli';

function rec(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: '0.1.1', reportSeq: 0, final: true, reason: 'closed',
    clientIp: '10.77.0.1', clientPort: 40000, serverIp: '10.77.0.2', serverPort: 3389,
    ipProto: 6, vlan: -1, firstTs: 1700000000, lastTs: 1700000010,
    packets: [10, 10], bytes: [2000, 3000], payloadBytes: [1000, 2000], history: 'ShADadFf',
    protoByDir: [0, 0], identifiedAt: [0, 0], entropy: [-1, -1], entropySample: [0, 0],
    head: ['', ''],
    ...over,
  };
}

/** Deterministic pseudo-random bytes (SHA-256 chain): fixed test vectors, no flakiness. */
function prng(n: number, seed = 'tunnelhound'): Buffer {
  const out: Buffer[] = [];
  let h = Buffer.from(seed);
  while (out.length * 32 < n) {
    h = createHash('sha256').update(h).digest();
    out.push(h);
  }
  return Buffer.concat(out).subarray(0, n);
}

/** An echo packet laid out as the decoder leaves it: 8-byte header, data at offset 8. */
function echo(type: number, seq: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = type;
  b[4] = 0x12; b[5] = 0x34; // identifier
  b[6] = seq >> 8; b[7] = seq & 0xff;
  b.set(data, 8);
  return b;
}

/** iputils-style data: 16-byte timestamp, then the counting pattern. */
function pingData(seq: number, size = 56): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < Math.min(16, size); i++) d[i] = (seq * 7 + i) & 0xff;
  for (let i = 16; i < size; i++) d[i] = i & 0xff;
  return d;
}

t.test('ICMP echo features: ping repeats itself, a tunnel does not', async (t) => {
  const f = new IcmpEchoFeatures(4);
  for (let seq = 0; seq < 10; seq++) {
    const req = echo(8, seq, pingData(seq, 1400));
    f.update(0, IPPROTO.ICMP, req, 8, req.length - 8);
    const rep = echo(0, seq, pingData(seq, 1400));
    f.update(0, IPPROTO.ICMP, rep, 8, rep.length - 8);
  }
  const ping = f.toRecord(0)!;
  t.same([ping.requests, ping.replies, ping.changedRequests, ping.unmatchedReplies],
    [10, 10, 0, 0], 'timestamp ignored, replies repeat their requests');
  t.same([ping.minSize, ping.maxSize, ping.distinctSizes, ping.dataBytes],
    [1400, 1400, 1, 28000]);
  t.equal(judgeIcmpTunnel(DEFAULT_CONFIG, { record: rec({ ipProto: 1, icmpEcho: ping,
    entropy: [7.9, 7.9] }) }), null, 'a large ping is high-entropy and still no tunnel');

  for (let seq = 0; seq < 12; seq++) {
    const req = echo(8, seq, prng(40 + seq * 30, `req${seq}`));
    f.update(1, IPPROTO.ICMP, req, 8, req.length - 8);
    const rep = echo(0, seq + 1000, prng(1000, `rep${seq}`));
    f.update(1, IPPROTO.ICMP, rep, 8, rep.length - 8);
  }
  const tun = f.toRecord(1)!;
  t.same([tun.requests, tun.changedRequests, tun.unmatchedReplies, tun.distinctSizes],
    [12, 11, 12, 9], 'changing data, replies of their own, more than 8 sizes');
  const d = judgeIcmpTunnel(DEFAULT_CONFIG, { record: rec({ ipProto: 1, icmpEcho: tun,
    entropy: [7.5, 7.8], entropySample: [2000, 4096] }) })!;
  t.equal(d.detection, 'icmp_tunnel');
  t.equal(d.analytic, 'AN1484');
  t.same(d.evidence.map((e) => e.config_key), ['rules.icmpTunnel.minEchoes',
    'rules.icmpTunnel.minChangedRatio', 'rules.icmpTunnel.minUnmatchedReplyRatio',
    'rules.icmpTunnel.minDistinctSizes', 'PayloadEntropyThreshold']);
  t.equal(d.evidence[1].value, 1);
  t.equal(judgeIcmpTunnel(DEFAULT_CONFIG, { record: rec({ ipProto: 1,
    icmpEcho: { ...tun, requests: 7 } }) }), null, 'fewer than minEchoes');
  const off = configFrom({ rules: { icmpTunnel: { enabled: false } } });
  t.equal(judgeIcmpTunnel(off, { record: rec({ ipProto: 1, icmpEcho: tun }) }), null);

  f.release(1);
  t.equal(f.toRecord(1), undefined, 'released slot carries nothing');
  const small = echo(8, 1, new Uint8Array(ECHO_TIMESTAMP_BYTES));
  f.update(2, IPPROTO.ICMPV6, small, 8, 16);
  t.equal(f.toRecord(2), undefined, 'type 8 is no echo in ICMPv6');
  const v6 = echo(128, 1, new Uint8Array(ECHO_TIMESTAMP_BYTES));
  f.update(2, IPPROTO.ICMPV6, v6, 8, 16);
  t.equal(f.toRecord(2)!.requests, 1, 'ICMPv6 echo request counted');
});

t.test('ICMP echo features: hostile input and the pool bound', async (t) => {
  const f = new IcmpEchoFeatures(ICMP_POOL_MAX + 2);
  t.doesNotThrow(() => f.update(0, IPPROTO.ICMP, new Uint8Array(4), 2, 2), 'header cut');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(300), fc.nat(300),
    (buf, off, len) => {
      f.update(1, IPPROTO.ICMP, buf, off, len);
      f.update(1, IPPROTO.ICMPV6, buf, off, len);
    }));
  const req = echo(8, 0, pingData(0));
  for (let s = 0; s < ICMP_POOL_MAX + 2; s++) f.update(s, IPPROTO.ICMP, req, 8, 56);
  t.ok(f.poolExhausted >= 1, 'flows beyond the pool are counted, not stored');
});

t.test('byte shape: text, structure and random bytes', async (t) => {
  const text = Buffer.from('GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nAccept: */*\r\n');
  const s1 = byteShapeOfHex(text.toString('hex'))!;
  t.equal(s1.printableRatio, 1);
  t.notOk(looksRandom(s1, 0.6), 'text is not random');
  const rnd = byteShapeOfHex(prng(64).toString('hex'))!;
  t.equal(rnd.bytes, 64);
  t.ok(rnd.printableRatio < 0.6 && Math.abs(rnd.bitDensity - 0.5) < rnd.densityTolerance);
  t.ok(looksRandom(rnd, 0.6), 'random bytes are');
  const iac = byteShapeOfHex('fffd18fffd20fffd23fffd27'.repeat(6))!;
  t.notOk(looksRandom(iac, 0.6), 'telnet option negotiation repeats a few bytes');
  t.equal(byteShapeOfHex(''), null);
  t.equal(byteShapeOfHex('zz'), null, 'not hex');
});

t.test('cleartext rule: short random head on a text port, not on DNS', async (t) => {
  const head = prng(64, 'short').toString('hex');
  const r = rec({ serverPort: 80, entropy: [6.1, -1], entropySample: [120, 0], head: [head, ''] });
  const d = cleartextPortEntropy(DEFAULT_CONFIG, r)!;
  t.equal(d.detection, 'cleartext_port_entropy');
  t.same(d.evidence.map((e) => e.signal), ['head_sample_bytes', 'printable_ratio']);
  t.equal(d.evidence[1].config_key, 'rules.cleartextEntropy.maxPrintableRatio');
  t.ok((d.evidence[1].value as number) <= 0.6);
  t.equal(d.severity, 'medium', 'one direction');
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG, { ...r, serverPort: 53, ipProto: 17 }), null,
    'DNS is binary cleartext: no byte-shape verdict');
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG,
    { ...r, head: [Buffer.from('GET / HTTP/1.0\r\n'.repeat(4)).toString('hex'), ''] }), null);
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG, { ...r, head: [head.slice(0, 60), ''] }), null,
    'fewer than minShapeBytes');
});

t.test('relay: two legs that track each other', async (t) => {
  const inbound = rec({ flowId: 'a', payloadBytes: [28819, 134419], firstTs: 100, lastTs: 110 });
  const outbound = rec({ flowId: 'b', clientIp: '10.77.1.1', serverIp: '10.77.1.2',
    payloadBytes: [28819, 134419], firstTs: 100.007, lastTs: 110 });
  const sig = relaySignal(DEFAULT_CONFIG);
  sig.observe!({ record: inbound });
  t.equal(sig.judge({ record: inbound }), null, 'one leg alone');
  sig.observe!({ record: outbound });
  const d = sig.judge({ record: outbound })!;
  t.equal(d.detection, 'relay');
  t.equal(d.analytic, 'AN1484');
  t.match(d.description, /outbound leg; the other is tcp 10\.77\.0\.1:40000 -> 10\.77\.0\.2:3389/);
  t.same(d.evidence.map((e) => [e.signal, e.config_key]), [
    ['flow_payload_bytes', 'rules.relay.minPayloadBytes'],
    ['relay_start_gap', 'rules.relay.maxStartGapSec'],
    ['relay_end_gap', 'rules.relay.maxEndGapSec'],
    ['relay_byte_difference', 'rules.relay.byteTolerance']]);
  t.equal(d.evidence[1].value, 0.007);

  const check = (cfgOver: object, over: Partial<FlowRecord>, why: string) => {
    const s = relaySignal(configFrom(cfgOver));
    s.observe!({ record: inbound });
    const o = { ...outbound, ...over };
    s.observe!({ record: o });
    t.equal(s.judge({ record: o }), null, why);
  };
  check({}, { firstTs: 103 }, 'outbound starts too late');
  check({}, { firstTs: 99, clientIp: '10.77.0.2' }, 'outbound before inbound (one host)');
  check({}, { lastTs: 120 }, 'ends apart');
  check({}, { payloadBytes: [28819, 90000] }, 'bytes differ');
  check({}, { clientIp: '198.51.100.7' }, 'other address of the relay must be internal');
  check({}, { clientIp: '10.77.0.1' }, 'the same client opening two flows');
  check({ rules: { relay: { allowedRelays: ['10.77.0.0/24'] } } }, {}, 'allowed relay');
  check({ rules: { relay: { enabled: false } } }, {}, 'disabled');
  const tls = rec({ ...inbound, protoByDir: [PROTO.TLS, PROTO.TLS],
    payloadBytes: [560, 204579] });
  const s = relaySignal(DEFAULT_CONFIG);
  s.observe!({ record: tls });
  const http = { ...outbound, serverPort: 80,
    protoByDir: [PROTO.HTTP, PROTO.HTTP] as [number, number],
    payloadBytes: [88, 202822] as [number, number] };
  s.observe!({ record: http });
  const w = s.judge({ record: http })!;
  t.equal(w.severity, 'high', 'TLS on one leg only: a wrapping relay');
  t.throws(() => configFrom({ rules: { relay: { allowedRelays: ['10.0.0.0/33'] } } }),
    ConfigError);
});

t.test('relay: state stays bounded', async (t) => {
  const tr = new RelayTracker(DEFAULT_CONFIG);
  for (let i = 0; i < 20_000; i++) {
    const bytes = 20_000 + (i % 997) * 4099;
    tr.observe(rec({ flowId: `f${i}`, clientIp: `10.${(i >> 8) & 255}.${i & 255}.1`,
      payloadBytes: [bytes, bytes], firstTs: i, lastTs: i + 1 }));
  }
  t.ok(tr.legCount <= BUCKETS * LEGS_PER_BUCKET, `${tr.legCount} legs held`);
  t.doesNotThrow(() => tr.observe(rec({ payloadBytes: [Number.MAX_SAFE_INTEGER, 0] })));
  t.doesNotThrow(() => tr.observe(rec({ payloadBytes: [NaN, NaN] })));
});

t.test('volume outliers: only unidentified bytes, only with history', async (t) => {
  const sig = volumeOutlierSignal(DEFAULT_CONFIG);
  const feed = (r: FlowRecord) => {
    sig.observe!({ record: r });
    return sig.judge({ record: r });
  };
  const big = rec({ flowId: 'big', serverPort: 9999, payloadBytes: [20_000, 9_000_000] });
  t.equal(feed(big), null, 'no history yet');
  for (let i = 0; i < 60; i++) {
    t.equal(feed(rec({ flowId: `s${i}`, serverPort: 9999,
      payloadBytes: [300 + i * 10, 900 + (i % 7) * 100] })), null);
  }
  const d = feed({ ...big, flowId: 'big2' })!;
  t.equal(d.detection, 'volume_outlier');
  t.ok((d.evidence[0].value as number) >= 4);
  t.same(d.evidence.map((e) => e.config_key), ['rules.volumeOutlier.zThreshold',
    'rules.volumeOutlier.minHistory', 'DataAsymmetryThreshold']);
  t.equal(feed({ ...big, flowId: 'tls', protoByDir: [PROTO.TLS, PROTO.TLS] }), null,
    'identified TLS is never an outlier alert, however large');
  t.equal(feed({ ...big, flowId: 'active', final: false }), null, 'judged when finished');
  const h = new VolumeHistory();
  for (let p = 0; p < MAX_PORTS + 100; p++) h.add(`tcp/${p}`, 3);
  t.equal(h.size, MAX_PORTS, 'port history bounded');
});

t.test('engine with every signal never throws on odd records', async (t) => {
  const engine = new DetectionEngine(DEFAULT_CONFIG);
  fc.assert(fc.property(fc.record({
    ipProto: fc.constantFrom(1, 6, 17, 58, 47), serverPort: fc.nat(65535),
    a: fc.double(), b: fc.double(), first: fc.double(), last: fc.double(),
    head: fc.uint8Array({ maxLength: 64 }),
  }), (x) => {
    const r = rec({ flowId: `x${x.serverPort}`, ipProto: x.ipProto, serverPort: x.serverPort,
      payloadBytes: [x.a, x.b], firstTs: x.first, lastTs: x.last,
      head: [Buffer.from(x.head).toString('hex'), 'zz'],
      icmpEcho: { requests: 9, replies: 0, minSize: 0, maxSize: 0, distinctSizes: 9,
        changedRequests: 9, unmatchedReplies: 0, dataBytes: x.a },
    });
    engine.evaluate(r);
  }));
  t.pass('no throw');
});

t.test('public ICMP tunnel capture (ptunnel-like, carrying SSH) is found', { skip:
  fs.existsSync(path.join(CORPUS, 'ndpi__icmp-tunnel.pcap')) ? false : 'not present' },
async (t) => {
  const r = await runCli(['replay', path.join(CORPUS, 'ndpi__icmp-tunnel.pcap')]);
  const hits = parseNdjson(r.stdout).filter((a) => a.tunnelhound.detection === 'icmp_tunnel');
  t.equal(hits.length, 1);
  t.equal(hits[0].rule.id, 'AN1484');
  t.equal(hits[0].network.transport, 'icmp');
});
