// Per-flow DNS summary and TLS record shape (src/flow/features): values on hand-built
// messages, bounded pools, and hostile bytes that must never throw.

import t from 'tap';
import fc from 'fast-check';
import {
  DNS_MAX_DOMAINS, DNS_MAX_MEASURED, DnsFeatures, sketchEstimate,
} from '../src/flow/features/dns';
import { TLS_SHAPE_RECORDS, TlsShapeFeatures } from '../src/flow/features/tls-shape';
import { dohShapePairs } from '../src/signals/doh';

/** A DNS query (RFC 1035 s4.1) for `name` and `qtype`, optionally with a TCP length prefix. */
function query(name: string, qtype: number, id = 0x1234, tcp = false): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]);
  const msg = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0,
    qtype >> 8, qtype & 0xff, 0, 1];
  return Uint8Array.from(tcp ? [msg.length >> 8, msg.length & 0xff, ...msg] : msg);
}

function response(q: Uint8Array, rcode = 0): Uint8Array {
  const r = Uint8Array.from(q);
  r[2] = 0x81;
  r[3] = 0x80 | rcode;
  return r;
}

t.test('a tunnel-like flow: lengths, entropy, types, domains', async (t) => {
  const f = new DnsFeatures(4);
  const chunk = 'mzxw6ytboi2dsnrtgq3tqmbrgizdgnbvgy3tqojqgeztcnbqgy2tk'; // base32, 53 bytes
  for (let i = 0; i < 20; i++) {
    const q = query(`${chunk.slice(i)}${i}.t.example.com`, 10);
    f.update(0, false, q, 0, q.length);
    f.update(0, false, response(q), 0, q.length);
  }
  const nx = query('nothere.example.org', 1);
  f.update(0, false, response(nx, 3), 0, nx.length);
  const d = f.toRecord(0)!;
  t.equal(d.queries, 20);
  t.equal(d.responses, 21);
  t.equal(d.nxdomain, 1);
  t.equal(d.measured, 20);
  t.equal(d.types.null, 20);
  t.equal(d.maxLabelBytes, 54, 'the longest label (53 + one digit), in bytes');
  t.equal(d.maxSubdomainBytes, 56, 'label plus ".t" under example.com');
  t.ok(d.subdomainEntropy > 4 && d.subdomainEntropy < 5, `entropy ${d.subdomainEntropy}`);
  t.ok(Math.abs(d.distinctNames - 20) <= 2, `about 20 distinct (${d.distinctNames})`);
  t.same(d.domains.map((x) => [x.domain, x.queries]), [['example.com', 20]]);
  t.equal(f.toRecord(1), undefined, 'a slot without DNS has no summary');
  t.equal(f.answered(0), true, 'every query answered');
});

t.test('binary labels are measured in wire bytes, not escapes', async (t) => {
  const f = new DnsFeatures(1);
  const raw = Uint8Array.from([0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40,
    ...Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff), 3, 0x63, 0x6f, 0x6d, 0, 0, 10, 0, 1]);
  f.update(0, false, raw, 0, raw.length);
  const d = f.toRecord(0)!;
  t.equal(d.maxLabelBytes, 40);
  t.equal(d.maxNameBytes, 1 + 40 + 1 + 3 + 1);
});

t.test('DNS over TCP: several messages in a segment, and what is left out', async (t) => {
  const f = new DnsFeatures(1);
  const a = query('www.example.com', 1, 1, true);
  const b = query('mail.example.com', 15, 2, true);
  const both = Uint8Array.from([...a, ...b]);
  f.update(0, true, both, 0, both.length);
  f.update(0, true, a, 0, a.length - 3); // a message cut by the segment end
  const d = f.toRecord(0)!;
  t.equal(d.queries, 2);
  t.equal(d.types.mx, 1);
  t.equal(d.malformed, 1);
});

t.test('bounded: pool, measured names, domains', async (t) => {
  const f = new DnsFeatures(3, 1);
  const q = query('a.example.com', 1);
  f.update(0, false, q, 0, q.length);
  f.update(1, false, q, 0, q.length);
  t.equal(f.poolExhausted, 1);
  t.equal(f.toRecord(1), undefined);
  f.release(0);
  f.update(2, false, q, 0, q.length);
  t.equal(f.toRecord(2)!.queries, 1, 'a released entry serves the next flow');

  const g = new DnsFeatures(1);
  for (let i = 0; i < DNS_MAX_MEASURED + 50; i++) {
    const n = query(`h${i}.d${i % 7}.example${i % 9}.net`, 1);
    g.update(0, false, n, 0, n.length);
  }
  const d = g.toRecord(0)!;
  t.equal(d.queries, DNS_MAX_MEASURED + 50);
  t.equal(d.measured, DNS_MAX_MEASURED);
  t.equal(d.domains.length, DNS_MAX_DOMAINS);
});

t.test('sketch estimate', async (t) => {
  t.equal(sketchEstimate(256, 256), 0);
  t.equal(sketchEstimate(0, 256), Math.round(256 * Math.log(256)), 'saturated: a floor');
  t.equal(sketchEstimate(128, 256), Math.round(256 * Math.log(2)));
});

t.test('hostile bytes never throw (DNS, UDP and TCP)', async (t) => {
  const f = new DnsFeatures(2, 2);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (b, tcp) => {
    f.update(0, tcp, b, 0, b.length);
    const d = f.toRecord(0)!;
    return d.measured <= DNS_MAX_MEASURED && d.maxLabelBytes <= 63 && d.maxNameBytes <= 255;
  }), { numRuns: 3000 });
  const q = query('x.example.com', 16);
  for (let n = 0; n <= q.length; n++) f.update(1, false, q, 0, n);
  t.ok(f.toRecord(1)!.malformed > 0, 'every prefix of a query: counted, not thrown');
});

/** TLS records (RFC 8446 s5.1): type, version 3.3, length, body. */
function records(...list: Array<[number, number]>): Uint8Array {
  const out: number[] = [];
  for (const [type, len] of list) out.push(type, 3, 3, len >> 8, len & 0xff, ...new Array(len).fill(7));
  return Uint8Array.from(out);
}

t.test('TLS shape: records across segments, in order', async (t) => {
  const f = new TlsShapeFeatures(2);
  const c = records([22, 100], [23, 53], [23, 90], [23, 61]);
  // Split the client stream at awkward places: inside a header and inside a body.
  const cuts = [0, 3, 108, 120, c.length];
  let seq = 1000;
  for (let i = 0; i + 1 < cuts.length; i++) {
    f.update(0, 0, seq, c, cuts[i], cuts[i + 1] - cuts[i], 10 + i);
    seq += cuts[i + 1] - cuts[i];
  }
  f.update(0, 0, 1000, c, 0, 3, 20); // a retransmission of the first bytes: skipped
  const s = records([22, 80], [23, 2900], [23, 120]);
  f.update(0, 1, 5000, s, 0, s.length, 30);
  const shape = f.toRecord(0)!;
  t.same(shape.records, [[53, 90, 61], [2900, 120]]);
  // A record's time is that of the segment completing its header: the 53-byte record's
  // header (bytes 105-109) ends in segment 2 (t=12), the 90's and the 61's in segment 3.
  t.same(shape.times, [[12, 13, 13], [30, 30]]);
  t.same(shape.desync, [false, false]);
  t.equal(dohShapePairs(shape, 600), 1, 'the big server record is skipped as handshake');
});

t.test('TLS shape: gaps and non-TLS bytes end the walk', async (t) => {
  const f = new TlsShapeFeatures(2);
  const c = records([23, 10], [23, 10]);
  f.update(0, 0, 1, c, 0, 15, 0);
  f.update(0, 0, 100, c, 15, 15, 0); // bytes missing in between
  t.same(f.toRecord(0)!.desync, [true, false]);
  const junk = Uint8Array.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0x20]);
  f.update(1, 1, 1, junk, 0, junk.length, 0);
  t.same(f.toRecord(1)!.desync, [false, true]);
});

t.test('TLS shape: stops at TLS_SHAPE_RECORDS, frees its entry, hostile input', async (t) => {
  const f = new TlsShapeFeatures(3, 1);
  const many = records(...Array.from({ length: 40 }, () => [23, 20] as [number, number]));
  f.update(0, 0, 1, many, 0, many.length, 0);
  f.update(0, 1, 1, many, 0, many.length, 0);
  t.equal(f.toRecord(0)!.records[0].length, TLS_SHAPE_RECORDS);
  f.update(1, 0, 1, many, 0, 25, 0);
  t.equal(f.poolExhausted, 0, 'the finished flow gave its entry back');
  f.update(2, 0, 1, many, 0, 25, 0);
  t.equal(f.poolExhausted, 1);
  const g = new TlsShapeFeatures(1);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(1), (b, seq, dir) => {
    g.update(0, dir, seq >>> 0, b, 0, b.length, 0);
    const s = g.toRecord(0);
    return s === undefined || s.records.every((r) => r.length <= TLS_SHAPE_RECORDS);
  }), { numRuns: 2000 });
});

t.test('DoH shape pairs', async (t) => {
  const shape = { records: [[69, 81, 82, 26, 60], [36, 528, 96, 69, 282]] as [number[], number[]],
    times: [[], []] as [number[], number[]], desync: [false, false] as [boolean, boolean] };
  t.equal(dohShapePairs(shape, 600), 3, 'the 26-byte SETTINGS ack is not a request');
  t.equal(dohShapePairs(shape, 200), 0, 'a record over the limit rules DoH out');
  // ndpi__no_sni.pcap, 192.168.1.119 -> 104.22.72.170: an SNI-less page load. Counting the
  // h2 control frames (26 bytes) gave 5 pairs and a DoH alert; it is 4 requests.
  const page = { records: [[53, 165, 321, 70, 70, 26],
    [2653, 445, 57, 26, 522, 26, 309, 26, 309, 26]] as [number[], number[]],
  times: [[], []] as [number[], number[]], desync: [false, false] as [boolean, boolean] };
  t.equal(dohShapePairs(page, 600), 4);
});

t.test('names are measured without case: 0x20 mixing changes no measure or domain', async (t) => {
  // Resolvers randomise letter case (draft-vixie-dnsext-dns0x20); a flow must not count
  // "WwW.Example.COM" as a new name or a new domain, nor its capitals as extra entropy.
  const sub = 'AbCdEfGhIjKlMnOpQrStUv';
  const mixed = new DnsFeatures(1);
  const lower = new DnsFeatures(1);
  for (let i = 0; i < 5; i++) {
    const a = query(`${sub}.Tunnel.Example.CO.UK`, 16, i);
    mixed.update(0, false, a, 0, a.length);
    const b = query(`${sub.toLowerCase()}.tunnel.example.co.uk`, 16, i);
    lower.update(0, false, b, 0, b.length);
  }
  const m = mixed.toRecord(0)!;
  const l = lower.toRecord(0)!;
  t.same(m, l, 'every field equal, sketches included');
  t.same(m.domains.map((d) => d.domain), ['example.co.uk'], 'three labels under co.uk');
  t.equal(m.distinctNames, 1);
  t.equal(m.maxSubdomainBytes, sub.length + '.tunnel'.length);
  // The part under the domain is the 22 letters and "tunnel" (dot not counted), folded.
  const bytes = [...`${sub.toLowerCase()}tunnel`];
  const freq = new Map<string, number>();
  for (const c of bytes) freq.set(c, (freq.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of freq.values()) h -= (n / bytes.length) * Math.log2(n / bytes.length);
  t.equal(m.subdomainEntropy, Math.round(h * 1000) / 1000, 'entropy over folded letters');
});
