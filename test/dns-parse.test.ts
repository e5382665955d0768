// DNS message parser: messages built field by field from RFC 1035 section 4 (and the RFCs
// of each record type), every hostile shape the anomaly list names, prefixes, random bytes,
// and the corpus's DNS and DNS-tunnel captures against tcpdump and hand-read hex.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import {
  dnsNameLabels, labelEntropy, longestLabel, parseDnsMessage, parseDnsTcpStream,
  registeredDomain,
} from '../src/protocols/dns/parse';
import type { DnsMessage, DnsRecord } from '../src/protocols/dns/parse';
import { forEachTransportPayload, tcpConversations } from './helpers/ssh-streams';

function repoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}
const CORPUS = path.resolve(repoRoot(__dirname), '../shared/corpus/public');

// --- building messages ------------------------------------------------------------------

const cat = (...parts: (Uint8Array | number[])[]): Uint8Array =>
  Uint8Array.from(Buffer.concat(parts.map((p) => Uint8Array.from(p))));
const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u32 = (n: number): number[] => [...u16(n >>> 16), ...u16(n & 0xffff)];
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** Uncompressed wire name (RFC 1035 section 3.1). */
function name(text: string): number[] {
  if (text === '.') return [0];
  return [...text.split('.').flatMap((l) => [l.length, ...ascii(l)]), 0];
}
const ptr = (offset: number): number[] => [0xc0 | (offset >> 8), offset & 0xff];

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number) {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
}
const question = (n: number[], type: number, cls = 1): number[] =>
  [...n, ...u16(type), ...u16(cls)];
function rr(n: number[], type: number, rdata: number[], cls = 1, ttl = 300): number[] {
  return [...n, ...u16(type), ...u16(cls), ...u32(ttl), ...u16(rdata.length), ...rdata];
}

function parsed(b: Uint8Array, off = 0, len = b.length): DnsMessage {
  const r = parseDnsMessage(b, off, len);
  if (r.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.record;
}
const anomalies = (b: Uint8Array | number[]): string[] =>
  parsed(Uint8Array.from(b)).anomalies;

/** A response using every decoded type, names compressed against the question at 12. */
const Q_NAME = name('www.example.com'); // at offset 12
const EXAMPLE = 12 + 4; // "example.com" inside the question name
const RESPONSE = cat(
  header(0xbeef, 0x8580, 1, 9, 1, 3), // QR, AA, RD, RA
  question(Q_NAME, 1),
  rr(ptr(12), 5, [3, ...ascii('web'), ...ptr(EXAMPLE)]), // CNAME web.example.com
  rr(ptr(12), 1, [192, 0, 2, 1]),
  rr(ptr(12), 28, [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]),
  rr(ptr(12), 28, [...Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 7]),
  rr(ptr(EXAMPLE), 15, [...u16(10), 4, ...ascii('mail'), ...ptr(EXAMPLE)]),
  rr(ptr(EXAMPLE), 16, [5, ...ascii('hello'), 0, 3, 0xe4, 0x00, 0x41]),
  rr(ptr(EXAMPLE), 33, [...u16(1), ...u16(2), ...u16(5060), ...name('sip.example.com')]),
  rr(ptr(EXAMPLE), 10, Array.from({ length: 20 }, (_, i) => i)),
  rr(ptr(EXAMPLE), 65, [...u16(1), 0, 0, 1, 0, 3, 2, 104, 50]), // HTTPS 1 . alpn=h2
  rr(ptr(EXAMPLE), 6, [...ptr(EXAMPLE), 3, ...ascii('ops'), ...ptr(EXAMPLE),
    ...u32(2024010101), ...u32(7200), ...u32(900), ...u32(1209600), ...u32(300)]),
  rr(ptr(EXAMPLE), 2, [2, ...ascii('ns'), ...ptr(EXAMPLE)]),
  rr(ptr(EXAMPLE), 99, [1, 2, 3]), // SPF: not decoded
  rr([0], 41, [...u16(10), ...u16(8), 1, 2, 3, 4, 5, 6, 7, 8, ...u16(12), ...u16(0)],
    1232, 0x01008000), // OPT: ext rcode 1, version 0, DO
);

t.test('header, questions and every decoded RDATA type', async (t) => {
  const m = parsed(RESPONSE);
  t.same(m.header, {
    id: 0xbeef, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: true, ad: false,
    cd: false, rcode: 0, qdcount: 1, ancount: 9, nscount: 1, arcount: 3,
  });
  t.same(m.questions, [{ name: 'www.example.com', type: 1, class: 1 }]);
  t.same(m.anomalies, []);
  t.equal(m.length, RESPONSE.length);
  const data = (r: DnsRecord): unknown => r.data;
  t.same(m.answers.map(data), [
    { kind: 'name', name: 'web.example.com' },
    { kind: 'a', address: '192.0.2.1' },
    { kind: 'aaaa', address: '2001:db8::1' },
    { kind: 'aaaa', address: '::ffff:192.0.2.7' },
    { kind: 'mx', preference: 10, exchange: 'mail.example.com' },
    { kind: 'txt', strings: ['hello', '', '\u00e4\u0000A'] },
    { kind: 'srv', priority: 1, weight: 2, port: 5060, target: 'sip.example.com' },
    { kind: 'null', length: 20, head: '000102030405060708090a0b0c0d0e0f' },
    { kind: 'svcb', priority: 1, target: '.' },
  ]);
  t.same(m.answers[0], {
    name: 'www.example.com', type: 5, class: 1, ttl: 300, rdlength: 6,
    data: { kind: 'name', name: 'web.example.com' },
  });
  t.same(m.authority.map(data), [{
    kind: 'soa', mname: 'example.com', rname: 'ops.example.com', serial: 2024010101,
    refresh: 7200, retry: 900, expire: 1209600, minimum: 300,
  }]);
  t.same(m.additional.map(data), [
    { kind: 'name', name: 'ns.example.com' },
    undefined,
    { kind: 'opt', udpSize: 1232, extendedRcode: 1, version: 0, dnssecOk: true,
      options: [10, 12] },
  ]);
  t.equal(m.additional[1].rdlength, 3, 'undecoded types keep type and rdlength');
  t.equal(m.additional[1].type, 99);
});

t.test('header bits (RFC 1035 section 4.1.1, RFC 4035 section 3.2)', async (t) => {
  const h = parsed(cat(header(1, 0x7a3f, 0, 0, 0, 0))).header; // opcode 15, TC, AD, CD...
  t.same([h.qr, h.opcode, h.aa, h.tc, h.rd, h.ra, h.ad, h.cd, h.rcode],
    [false, 15, false, true, false, false, true, true, 15]);
  t.same(anomalies(header(1, 0x0040, 0, 0, 0, 0)), ['z_flag_set']);
  t.same(parseDnsMessage(new Uint8Array(11), 0, 11),
    { status: 'invalid', reason: 'truncated_header' });
  t.same(parsed(cat([9, 9, 9], RESPONSE, [7, 7]), 3, RESPONSE.length).answers[0].data,
    { kind: 'name', name: 'web.example.com' }, 'pointers count from the message start');
});

t.test('names: presentation form and limits (RFC 1035 sections 2.3.4, 3.1, 4.1.4)', async (t) => {
  const q = (n: number[]): DnsMessage =>
    parsed(cat(header(1, 0x0100, 1, 0, 0, 0), question(n, 1)));
  t.equal(q([0]).questions[0].name, '.', 'root');
  t.equal(q([3, 0x61, 0x2e, 0x5c, 2, 0x00, 0xff, 0]).questions[0].name, 'a\\.\\\\.\\000\\255');
  t.equal(q([1, 0x20, 0]).questions[0].name, '\\032', 'space is escaped');

  const label63 = [63, ...Array(63).fill(0x61)];
  t.same(q([...label63, 0]).anomalies, [], '63-byte label');
  t.same(q([64, ...Array(64).fill(0x61), 0]).anomalies, ['label_too_long'], '64-byte label');
  t.same(q([0x80, 0]).anomalies, ['label_too_long'], 'reserved label type 10');
  const n255 = [...label63, ...label63, ...label63, 61, ...Array(61).fill(0x62), 0];
  t.equal(n255.length, 255);
  t.same(q(n255).anomalies, [], '255-byte name');
  const n256 = [...label63, ...label63, ...label63, 62, ...Array(62).fill(0x62), 0];
  t.same(q(n256).anomalies, ['name_too_long'], '256-byte name');
  t.same(q(Array(300).fill(1).map((v, i) => (i % 2 === 0 ? 1 : 0x61))).anomalies,
    ['name_too_long'], '128 one-byte labels');
});

t.test('compression pointers: loops, forward pointers, long chains', async (t) => {
  const h = header(1, 0x0100, 1, 0, 0, 0);
  t.same(anomalies([...h, ...ptr(12), 0, 1, 0, 1]), ['pointer_forward'], 'points at itself');
  t.same(anomalies([...h, ...ptr(20), 0, 1, 0, 1, 0, 0, 0, 0]), ['pointer_forward']);
  t.same(anomalies([...h, 1, 0x61, ...ptr(12), 0, 1, 0, 1]), ['name_loop'],
    'back into the piece being read');
  t.same(anomalies([...header(1, 0x0100, 1, 0, 0, 0), ...ptr(0), 0, 1, 0, 1]), [],
    'a pointer into the header is odd but bounded');

  // A NULL record holding "x" then a chain of pointers, each to the one before; a second
  // record's owner name enters at the end of the chain.
  const chain = (hops: number): Uint8Array => {
    const rdataAt = 12 + 1 + 10;
    const rdata = [1, 0x78, 0, ...ptr(rdataAt)];
    for (let k = 1; k < hops - 1; k++) rdata.push(...ptr(rdataAt + 3 + 2 * (k - 1)));
    const last = rdataAt + 3 + 2 * (hops - 2);
    return cat(header(2, 0x8000, 0, 2, 0, 0), rr([0], 10, rdata), rr(ptr(last), 1, [1, 2, 3, 4]));
  };
  t.equal(parsed(chain(128)).answers[1]?.name, 'x', '128 hops');
  t.same(parsed(chain(129)).anomalies, ['pointer_chain_too_long'], '129 hops');
});

t.test('counts, truncation and trailing bytes', async (t) => {
  t.same(anomalies(header(1, 0, 65535, 65535, 65535, 65535)), ['count_mismatch'],
    'counts of 65535 in a 12-byte message');
  t.same(anomalies(header(1, 0x8000, 0, 65535, 0, 0)), ['count_mismatch']);
  const query = cat(header(1, 0x0100, 1, 0, 0, 0), question(name('a.b'), 1));
  t.same(anomalies(query.subarray(0, query.length - 1)), ['truncated_question']);
  t.same(anomalies(query.subarray(0, 15)), ['truncated_question'], 'cut inside the name');
  t.same(anomalies(cat(query, [0])), ['trailing_bytes']);
  const cut = RESPONSE.subarray(0, 12 + 21 + 12 + 4);
  const m = parsed(cut);
  t.same(m.anomalies, ['truncated_rr'], 'RDATA past the end');
  t.equal(m.answers.length, 0);
  t.equal(m.questions.length, 1);

  const manyQ = cat(header(1, 0, 65, 0, 0, 0), ...Array(65).fill(question([0], 1)));
  t.equal(parsed(manyQ).questions.length, 64);
  t.same(parsed(manyQ).anomalies, ['too_many_questions']);
  const manyRR = cat(header(1, 0x8000, 0, 0, 0, 600), ...Array(600).fill(rr([0], 1, [1, 2, 3, 4])));
  t.equal(parsed(manyRR).additional.length, 512);
  t.same(parsed(manyRR).anomalies, ['too_many_records']);
});

t.test('malformed RDATA keeps the record and goes on', async (t) => {
  const one = (type: number, rdata: number[]): DnsMessage =>
    parsed(cat(header(1, 0x8000, 0, 2, 0, 0), rr([0], type, rdata), rr([0], 1, [1, 1, 1, 1])));
  for (const [type, rdata, why] of [
    [1, [1, 2, 3, 4, 5], 'A of 5 bytes'],
    [28, [1, 2, 3, 4], 'AAAA of 4 bytes'],
    [5, [...name('a'), 0], 'CNAME with a byte after its name'],
    [5, [1, 0x61], 'CNAME cut inside RDATA'],
    [15, [0], 'MX without exchange'],
    [16, [5, 0x61], 'TXT string past RDLENGTH'],
    [16, [], 'TXT without a string'],
    [6, [0, 0, 1, 2], 'SOA numbers short'],
    [65, [0], 'HTTPS without priority'],
    [33, [0, 1, 0, 2], 'SRV without target'],
  ] as [number, number[], string][]) {
    const m = one(type, rdata);
    t.same(m.anomalies, ['bad_rdata'], why);
    t.equal(m.answers[0].data, undefined, why);
    t.equal(m.answers[1].data?.kind, 'a', `${why}: next record still read`);
  }
  t.same(one(5, [...ptr(40)]).anomalies, ['pointer_forward'], 'name anomaly inside RDATA');
  const strings = Array(65).fill(0);
  t.same(one(16, strings).anomalies, ['txt_too_many_strings']);
  t.equal(one(16, strings).answers[0].data?.kind, 'txt');
  t.same(anomalies(cat(header(1, 0, 0, 0, 0, 1), rr([0], 41, [0, 10, 0, 9, 1], 512))),
    ['bad_rdata'], 'OPT option past RDLENGTH');
  t.same(anomalies(cat(header(1, 0x8000, 0, 1, 0, 0), rr([0], 41, [], 512))), ['opt_misplaced']);
  t.same(anomalies(cat(header(1, 0, 0, 0, 0, 2), rr([0], 41, [], 512), rr([0], 41, [], 512))),
    ['opt_misplaced'], 'two OPT records');
});

t.test('DNS over TCP: length prefixes, pipelining, partial messages', async (t) => {
  const query = cat(header(7, 0x0100, 1, 0, 0, 0), question(name('a.example'), 1));
  const framed = cat(u16(query.length), query, u16(RESPONSE.length), RESPONSE);
  const r = parseDnsTcpStream(framed, 0, framed.length);
  t.equal(r.messages.length, 2);
  t.equal(r.consumed, framed.length);
  t.equal(r.error, undefined);
  t.equal(r.messages[1].answers[0].data?.kind, 'name', 'pointers relative to each message');

  for (let n = 0; n < framed.length; n++) {
    const p = parseDnsTcpStream(framed, 0, n);
    const want = n < 2 + query.length ? 0 : 1;
    if (p.messages.length !== want || p.error !== undefined) {
      t.fail(`prefix ${n}: ${p.messages.length} messages, ${p.error}`);
    }
  }
  t.same(parseDnsTcpStream(cat(u16(query.length), query, u16(3), [1, 2, 3]), 0, 999),
    { messages: [parsed(query)], consumed: 2 + query.length, error: 'message_too_short' });
  t.same(parseDnsTcpStream(framed, -5, 10), { messages: [], consumed: 0 });
});

t.test('name measures for tunnel detection', async (t) => {
  t.same(dnsNameLabels('a\\.b.c\\228\\\\'), [[0x61, 0x2e, 0x62], [0x63, 228, 0x5c]]);
  t.same(dnsNameLabels('.'), []);
  t.equal(labelEntropy('aaaa.aaaa'), 0);
  t.equal(labelEntropy('ab'), 1);
  t.equal(labelEntropy('abcd.efgh'), 3, 'eight distinct bytes: 3 bits');
  t.equal(labelEntropy('.'), 0);
  t.equal(labelEntropy('ab'), 1, 'scratch counts are cleared between calls');
  t.equal(longestLabel('www.example.com'), 7);
  t.equal(longestLabel('a\\000b.c'), 3, 'escapes count as one byte');
  t.equal(longestLabel('.'), 0);
  for (const [n, want] of [
    ['www.example.com', 'example.com'], ['WWW.Example.COM', 'example.com'],
    ['a.b.bbc.co.uk', 'bbc.co.uk'], ['x.y.com.au', 'y.com.au'], ['google.co', 'google.co'],
    ['foo.github.io', 'github.io'], ['localhost', 'localhost'], ['.', ''],
    ['co.uk', 'co.uk'], ['x\\.y.example.org', 'example.org'], ['a.b\\.c.de', 'b\\.c.de'],
  ]) t.equal(registeredDomain(n), want, n);
});

t.test('random and mutated input never throws', async (t) => {
  const ok = new Set(['ok', 'invalid']);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (b) =>
    ok.has(parseDnsMessage(b, 0, b.length).status) &&
    parseDnsTcpStream(b, 0, b.length).consumed <= b.length), { numRuns: 3000 });
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(RESPONSE.length - 1), fc.integer({ min: 0, max: 255 })),
      { maxLength: 10 }),
    (flips) => {
      const b = Uint8Array.from(RESPONSE);
      for (const [i, v] of flips) b[i] = v;
      return ok.has(parseDnsMessage(b, 0, b.length).status);
    }), { numRuns: 5000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer(), fc.integer(),
    (b, off, len) => ok.has(parseDnsMessage(b, off, len).status)), { numRuns: 1000 });
  for (let n = 0; n <= RESPONSE.length; n++) parseDnsMessage(RESPONSE, 0, n);
  t.pass('no throw');
});

// --- the public corpus --------------------------------------------------------------------

const skip = fs.existsSync(path.join(CORPUS, 'MANIFEST.tsv')) ? false : `no corpus at ${CORPUS}`;

function manifestFiles(categories: string[]): string[] {
  const lines = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const cols = lines[0].split('\t');
  const [file, category] = [cols.indexOf('file'), cols.indexOf('category')];
  return lines.slice(1).map((l) => l.split('\t'))
    .filter((c) => categories.includes(c[category])).map((c) => c[file]);
}

/** Every UDP/53 message of a capture, in file order (IP fragments are not reassembled). */
function udpMessages(file: string): DnsMessage[] {
  const out: DnsMessage[] = [];
  forEachTransportPayload(path.join(CORPUS, file), (v) => {
    if (v.p.proto !== 17 || (v.p.srcPort !== 53 && v.p.dstPort !== 53)) return;
    const r = parseDnsMessage(v.buf, v.p.payloadOffset, v.p.payloadLength);
    if (r.status === 'ok') out.push(r.record);
  });
  return out;
}

/** What tcpdump -vv prints of each UDP/53 packet that is not an IP fragment. */
interface TcpdumpDns {
  id: number;
  response: boolean;
  qtype?: string;
  qname?: string;
  counts?: string;
  length?: number;
}

function tcpdumpDns(file: string): TcpdumpDns[] {
  // No BPF filter: "udp port 53" does not look inside PPPoE. Select from the text instead.
  const text = execFileSync('tcpdump', ['-nn', '-vv', '-r', path.join(CORPUS, file)],
    { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();
  // With -vv a packet may span lines; each starts with its timestamp.
  const packets = text.split(/\n(?=\d\d:\d\d:\d\d\.\d+ )/).map((p) => p.replace(/\n\s*/g, ' '))
    .filter((p) => /(proto|next-header) UDP/.test(p) && /\.53 > |\.53: /.test(p))
    .filter((p) => !/offset [1-9]|flags \[\+|frag \(/.test(p));
  return packets.filter((p) => p.trim() !== '').map((p) => {
    const dns = p.replace(/^.*?\.\d+ > \S+\.\d+: (\[(udp sum ok|bad udp cksum[^\]]*)\] )?/, '');
    const q = / ?([A-Za-z0-9]+)\? (\S+)( (\d+\/\d+\/\d+))?/.exec(dns);
    const length = /\((\d+)\)$/.exec(dns.trim());
    return {
      id: Number(/^(\d+)/.exec(dns)?.[1]),
      response: dns.includes(' q: '),
      qtype: q?.[1], qname: q?.[2].replace(/,$/, '').replace(/\.$/, ''), counts: q?.[4],
      length: length === null ? undefined : Number(length[1]),
    };
  });
}

/** tcpdump 4.99's mnemonics for the types it names; others print as TypeN. */
const TCPDUMP_TYPE: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 10: 'NULL', 12: 'PTR', 13: 'HINFO', 15: 'MX',
  16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR', 41: 'OPT', 43: 'DS', 46: 'RRSIG',
  47: 'NSEC', 48: 'DNSKEY', 52: 'TLSA', 64: 'Type64', 65: 'Type65', 255: 'ANY',
};

t.test('corpus: DNS and DNS-tunnel captures agree with tcpdump', { skip }, async (t) => {
  const tally = new Map<string, [number, number]>();
  const check = (file: string, i: number, field: string, want: unknown, got: unknown): void => {
    const row = tally.get(field) ?? [0, 0];
    row[1]++;
    if (want === got) row[0]++;
    else t.comment(`disagree ${file} #${i} ${field}: tcpdump ${want}, ours ${got}`);
    tally.set(field, row);
  };
  for (const file of manifestFiles(['dns', 'dns-tunnel'])) {
    const ours = udpMessages(file);
    const theirs = tcpdumpDns(file);
    check(file, -1, 'messages', theirs.length, ours.length);
    for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
      const m = ours[i];
      const d = theirs[i];
      const q = m.questions[0];
      check(file, i, 'id', d.id, m.header.id);
      check(file, i, 'qr', d.response, m.header.qr);
      if (d.length !== undefined) check(file, i, 'length', d.length, m.length);
      if (q === undefined || d.qtype === undefined) continue;
      const mnemonic = TCPDUMP_TYPE[q.type];
      if (mnemonic !== undefined || /^Type\d+$/.test(d.qtype)) {
        check(file, i, 'qtype', d.qtype, mnemonic ?? `Type${q.type}`);
      }
      // tcpdump shows other bytes as M-x / ^x; compare names made of visible ASCII only.
      if (!q.name.includes('\\') && /^[\x21-\x7e]+$/.test(d.qname ?? '')) {
        check(file, i, 'qname', d.qname, q.name);
      }
      if (d.response && d.counts !== undefined) {
        const h = m.header;
        check(file, i, 'counts', d.counts, `${h.ancount}/${h.nscount}/${h.arcount}`);
      }
    }
  }
  for (const [field, [agree, total]] of tally) {
    t.comment(`${field}: ${agree}/${total}`);
    t.ok(agree >= 0.99 * total, `${field} ${agree}/${total}`);
  }
});

t.test('corpus: tunnel and odd messages, hand-checked with tcpdump -x', { skip }, async (t) => {
  // iodine (ndpi dns-tunnel-iodine.pcap): NULL queries and NULL answers; packet 2 carries
  // "VACK" then 5 bytes, its version handshake reply. tcpdump counts 212 NULL answers.
  const iodine = udpMessages('ndpi__dns-tunnel-iodine.pcap');
  t.same(iodine[1].answers[0], {
    name: 'vaaaakardli.pirate.sea', type: 10, class: 1, ttl: 0, rdlength: 9,
    data: { kind: 'null', length: 9, head: '5641434b4403c5e901' },
  });
  t.equal(iodine.flatMap((m) => m.answers).filter((r) => r.type === 10).length, 212);
  t.equal(iodine[6].questions[0].name, 'zi03aA-Aaahhh-Drink-mal-ein-J\\228germeister-.pirate.sea',
    'byte 0xe4 in a label (tcpdump: M-d)');

  // dnscat2 (dmachard dnscat2.pcap): hex-encoded data in names, MX and TXT answers.
  const dnscat = udpMessages('dmachard-dns__dnscat2.pcap');
  t.same(dnscat[1].answers[0].data, {
    kind: 'mx', preference: 10, exchange: '611801b8d3ce2318e351d8ffffd59e7416.biillpi.com',
  });
  t.same(dnscat[5].answers[0].data,
    { kind: 'txt', strings: ['480e01b8d3040655d23e05ffffd59e7416'] });

  // dns2tcp: TXT answers of a data string then an empty one; '=' opens a label.
  const dns2tcp = udpMessages('dmachard-dns__dns2tcp.pcap');
  t.equal(dns2tcp[0].questions[0].name, 'AAAAAH7wQA.=auth.dns2tcp.hsc.fr');
  t.same(dns2tcp[1].answers[0].data,
    { kind: 'txt', strings: ['AoncAAH7wAFBLWDRJRzFRQ0g4SDZTWFg', ''] });

  // Zeek dns/ech.pcap: HTTPS (65) answer in ServiceMode (priority 1), target "." (the
  // owner name), then SvcParams with the ECH config; the query's OPT: 1232 and a cookie.
  const ech = udpMessages('zeek__dns__ech.pcap');
  t.same(ech[1].answers[0], {
    name: 'defo.ie', type: 65, class: 1, ttl: 1791, rdlength: 229,
    data: { kind: 'svcb', priority: 1, target: '.' },
  });
  t.same(ech[0].additional[0].data,
    { kind: 'opt', udpSize: 1232, extendedRcode: 0, version: 0, dnssecOk: false, options: [10] });

  // nDPI dns-exf.pcap: the response counts the OPT record as its answer and leaves the real
  // A record (c00c 0001 0001 0000003c 0004 c0a80286) uncounted after it.
  t.same(udpMessages('ndpi__dns-exf.pcap')[1].anomalies, ['opt_misplaced', 'trailing_bytes']);

  // nDPI malformed_dns.pcap: a second question of 34 'A's, then 63-byte labels of NULs and
  // '?' past 255 bytes (tcpdump: <DOMAIN NAME TOO LONG>).
  const malformed = udpMessages('ndpi__malformed_dns.pcap');
  t.same(malformed.map((m) => m.anomalies.join()), ['', 'name_too_long', 'name_too_long', '',
    'name_too_long', 'name_too_long']);
  t.same(malformed[1].questions, [{ name: 'www.xt.com', type: 1, class: 1 }]);
});

t.test('corpus: DNS over TCP (suricata-verify dns-tcp-www-google-com)', { skip }, async (t) => {
  const [conv] = tcpConversations(
    path.join(CORPUS, 'suricata-verify__dns-tcp-www-google-com__dns.pcap'));
  const query = parseDnsTcpStream(conv.clientBytes, 0, conv.clientBytes.length);
  const reply = parseDnsTcpStream(conv.serverBytes, 0, conv.serverBytes.length);
  t.same([query.consumed, reply.consumed], [57, 237], 'tcpdump: length 57 and 237');
  t.same(query.messages[0].questions, [{ name: 'www.google.com', type: 1, class: 1 }]);
  const r = reply.messages[0];
  t.equal(r.header.id, 24440);
  t.equal(r.answers.length, 12);
  t.same(r.answers[0].data, { kind: 'a', address: '216.197.242.244' });
  t.same(r.answers.map((a) => a.name), Array(12).fill('www.google.com'));
  t.equal(r.additional[0].type, 41);
  t.same(r.anomalies, []);
});

t.test('corpus: every DNS-looking payload parses without throwing', { skip }, async (t) => {
  const ports = new Set([53, 5353, 5355]); // DNS, mDNS (RFC 6762), LLMNR (RFC 4795)
  const counts = new Map<string, number>();
  let messages = 0;
  for (const file of manifestFiles(manifestCategories())) {
    const at = path.join(CORPUS, file);
    forEachTransportPayload(at, (v) => {
      if (v.p.proto !== 17 || !(ports.has(v.p.srcPort) || ports.has(v.p.dstPort))) return;
      const r = parseDnsMessage(v.buf, v.p.payloadOffset, v.p.payloadLength);
      messages++;
      const keys = r.status === 'ok' ? r.record.anomalies : [r.status];
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    });
    for (const c of tcpConversations(at)) {
      if (c.serverPort !== 53) continue;
      for (const b of [c.clientBytes, c.serverBytes]) {
        messages += parseDnsTcpStream(b, 0, b.length).messages.length;
      }
    }
  }
  t.comment(`${messages} messages; anomalies ${JSON.stringify([...counts].sort())}`);
  t.ok(messages > 3000);
});

function manifestCategories(): string[] {
  const lines = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const col = lines[0].split('\t').indexOf('category');
  return [...new Set(lines.slice(1).map((l) => l.split('\t')[col]))];
}
