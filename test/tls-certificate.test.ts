// Leaf certificates: the DER walk on hand-built certificates (every string type, time form
// and malformation by name), the Certificate message framing, and every leaf the corpus
// captures hold against Zeek's x509.log and nDPI's Issuer/Subject/Validity.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { TlsCertificateInfo } from '../src/fingerprints/types';
import {
  parseCertificateMessageLeaf, parseX509Certificate,
} from '../src/protocols/tls/certificate';
import { parseTlsServerFlight } from '../src/protocols/tls/handshake';
import { CORPUS, pairKey, readNdpi, tcpConnections } from './helpers/tls-streams';

// ---- A small DER writer (X.690): enough to build test certificates ----

const u8a = (...xs: (number | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(xs.flatMap((x) => (typeof x === 'number' ? [x] : [...x])));

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = u8a(...content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return u8a(tag, ...len, body);
}

const seq = (...c: Uint8Array[]): Uint8Array => tlv(0x30, ...c);
const text = (tag: number, s: string, enc: BufferEncoding = 'utf8'): Uint8Array =>
  tlv(tag, Uint8Array.from(Buffer.from(s, enc)));

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const v of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const groups = [];
    let x = v;
    do {
      groups.unshift(x & 0x7f);
      x = Math.floor(x / 128);
    } while (x > 0);
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(out));
}

const atv = (type: string, value: Uint8Array): Uint8Array => seq(oid(type), value);
const rdn = (...atvs: Uint8Array[]): Uint8Array => tlv(0x31, ...atvs);
const CN = '2.5.4.3';

function cert(opts: { serial?: Uint8Array; issuer?: Uint8Array; subject?: Uint8Array;
  validity?: Uint8Array; version?: boolean }): Uint8Array {
  const issuer = opts.issuer ?? seq(rdn(atv(CN, text(0x13, 'Test CA'))));
  const tbs = seq(
    ...(opts.version === false ? [] : [tlv(0xa0, tlv(0x02, u8a(2)))]),
    opts.serial ?? tlv(0x02, u8a(0x00, 0x80, 0x01)),
    seq(oid('1.2.840.113549.1.1.11')),
    issuer,
    opts.validity ?? seq(text(0x17, '240101000000Z'), text(0x18, '20341231235959Z')),
    opts.subject ?? issuer,
    seq(),
  );
  return seq(tbs, seq(oid('1.2.840.113549.1.1.11')), tlv(0x03, u8a(0)));
}

function parse(der: Uint8Array): TlsCertificateInfo | string {
  const r = parseX509Certificate(der, 0, der.length);
  return r.status === 'ok' ? r.record : r.status === 'invalid' ? r.reason : r.status;
}

t.test('a certificate built by hand: fields, names, self-signed', (t) => {
  const subject = seq(
    rdn(atv('2.5.4.6', text(0x13, 'CH'))),
    rdn(atv('2.5.4.10', text(0x0c, 'Zürich, AG'))),
    rdn(atv('2.5.4.11', tlv(0x1e, Uint8Array.from(Buffer.from('Ωmega', 'utf16le').swap16())))),
    rdn(atv(CN, text(0x0c, '#lead+trail ')), atv('0.9.2342.19200300.100.1.1', text(0x16, 'u1'))),
    rdn(atv('1.2.3.4', tlv(0x04, u8a(1, 2, 3)))),
    rdn(atv('2.999.1', text(0x0c, 'line\nbreak'))),
    rdn(atv('2.5.4.7', tlv(0x1c, u8a(0, 0, 0, 0x78, 0, 0x11, 0, 0)))),
  );
  const r = parse(cert({ subject }));
  t.same(r, {
    subject: 'L=x\ufffd,2.999.1=line\\0abreak,1.2.3.4=#0403010203,' +
      'CN=\\#lead\\+trail\\ +UID=u1,OU=Ωmega,O=Zürich\\, AG,C=CH',
    issuer: 'CN=Test CA',
    notBefore: '2024-01-01T00:00:00Z',
    notAfter: '2034-12-31T23:59:59Z',
    selfSigned: false,
    serial: '8001',
  });
  const self = parse(cert({ version: false }));
  t.equal(typeof self === 'object' && self.selfSigned, true, 'subject bytes equal issuer bytes');
  t.end();
});

t.test('time forms (RFC 5280 section 4.1.2.5, plus BER variants)', (t) => {
  const times: [Uint8Array, string | undefined][] = [
    [text(0x17, '491231235959Z'), '2049-12-31T23:59:59Z'],
    [text(0x17, '500101000000Z'), '1950-01-01T00:00:00Z'],
    [text(0x18, '20500101120000.5Z'), '2050-01-01T12:00:00Z'],
    [text(0x17, '2401011200+0130'), '2024-01-01T10:30:00Z'],
    [text(0x18, '20240101120000-0200'), '2024-01-01T14:00:00Z'],
    [text(0x17, '241301000000Z'), undefined],
    [text(0x17, 'not a time'), undefined],
    [text(0x0c, '240101000000Z'), undefined],
  ];
  for (const [time, want] of times) {
    const r = parse(cert({ validity: seq(time, time) }));
    t.same(typeof r === 'object' ? r.notBefore : r, want ?? 'bad_time', String(want));
  }
  t.end();
});

t.test('malformed DER, by name', (t) => {
  const good = cert({});
  const attrs = Array.from({ length: 65 }, () => atv(CN, text(0x13, 'x')));
  const cases: [string, Uint8Array, string][] = [
    ['truncated', good.subarray(0, good.length - 1), 'bad_der'],
    ['indefinite length', u8a(0x30, 0x80, 0, 0), 'bad_der'],
    ['length of 5 bytes', u8a(0x30, 0x85, 0, 0, 0, 0, 1, 0), 'bad_der'],
    ['high tag number', u8a(0x3f, 1, 0), 'bad_der'],
    ['not a sequence', tlv(0x31, seq()), 'bad_der'],
    ['empty serial', cert({ serial: tlv(0x02) }), 'bad_serial'],
    ['serial of 65 bytes', cert({ serial: tlv(0x02, new Uint8Array(65).fill(1)) }),
      'bad_serial'],
    ['a name that is not a SET', cert({ issuer: seq(seq()) }), 'bad_der'],
    ['an attribute without a value', cert({ issuer: seq(rdn(seq(oid(CN)))) }), 'bad_der'],
    ['65 attributes in one name', cert({ issuer: seq(rdn(...attrs)) }), 'bad_der'],
    ['validity missing', cert({ validity: seq() }), 'bad_time'],
    ['nothing after the serial', seq(seq(tlv(0x02, u8a(1)))), 'bad_der'],
  ];
  for (const [name, der, want] of cases) t.equal(parse(der), want, name);
  t.same(parseX509Certificate(good, 0, 0), { status: 'invalid', reason: 'bad_der' });
  t.end();
});

t.test('odd OIDs print as dotted text or, past the limits, hex', (t) => {
  const long = tlv(0x06, new Uint8Array(65).fill(0x81));
  const huge = tlv(0x06, u8a(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f));
  const issuer = seq(rdn(seq(long, text(0x13, 'a')), seq(huge, text(0x13, 'b'))));
  const r = parse(cert({ issuer }));
  t.equal(typeof r === 'object' && r.issuer,
    `${'81'.repeat(65)}=a+ffffffffffffffff7f=b`);
  t.end();
});

t.test('Certificate message framing (RFC 5246 section 7.4.2)', (t) => {
  const der = cert({});
  const n = der.length;
  const u24 = (x: number): number[] => [x >> 16, (x >> 8) & 0xff, x & 0xff];
  const msg = u8a(11, ...u24(n + 6), ...u24(n + 3), ...u24(n), der);
  const ok = parseCertificateMessageLeaf(msg, 0, msg.length);
  t.equal(ok.status === 'ok' && ok.consumed, msg.length);
  t.same(parseCertificateMessageLeaf(msg, 0, msg.length - 1), { status: 'need-more' });
  t.same(parseCertificateMessageLeaf(msg, 0, 0), { status: 'need-more' });
  const bad = (b: Uint8Array): string => {
    const r = parseCertificateMessageLeaf(b, 0, b.length);
    return r.status === 'invalid' ? r.reason : r.status;
  };
  t.equal(bad(u8a(12, 0, 0, 0)), 'not_certificate_message');
  t.equal(bad(u8a(11, 0, 0, 3, 0, 0, 0)), 'empty_certificate_list');
  t.equal(bad(u8a(11, 0, 0, 2, 0, 0)), 'bad_certificate_lengths');
  t.equal(bad(u8a(11, ...u24(n + 6), ...u24(n + 3), ...u24(n + 1), der)),
    'bad_certificate_lengths', 'leaf longer than the list');
  t.equal(bad(u8a(11, 0, 0, 9, 0, 0, 6, 0, 0, 0)), 'bad_certificate_lengths', 'empty leaf');
  t.equal(bad(u8a(11, 0, 0, 9, 0, 0, 6, 0, 0, 3, 1, 2, 3)), 'bad_der');
  t.end();
});

/** Leaf certificates of every server flight of a capture, keyed by the endpoint pair. */
function leaves(capture: string): Map<string, TlsCertificateInfo> {
  const out = new Map<string, TlsCertificateInfo>();
  for (const c of tcpConnections(path.join(CORPUS, capture))) {
    const r = parseTlsServerFlight(c.serverBytes, 0, c.serverBytes.length, true);
    if (r.status === 'ok' && r.record.certificate) {
      out.set(pairKey(c.client, c.server), r.record.certificate);
    }
  }
  return out;
}

t.test('leaves agree with Zeek x509.log', (t) => {
  const logs = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.zeek.x509.log'));
  let checked = 0;
  for (const log of logs) {
    const capture = log.replace(/\.zeek\.x509\.log$/, '');
    const lines = fs.readFileSync(path.join(CORPUS, log), 'utf8').split('\n');
    const names = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
    const col = (row: string[], name: string): string => row[names.indexOf(name)];
    const iso = (s: string): string => new Date(Number(s) * 1000).toISOString()
      .replace('.000Z', 'Z');
    const zeek = lines.filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t'))
      .map((r) => JSON.stringify({
        subject: col(r, 'certificate.subject'), issuer: col(r, 'certificate.issuer'),
        notBefore: iso(col(r, 'certificate.not_valid_before')),
        notAfter: iso(col(r, 'certificate.not_valid_after')),
        serial: col(r, 'certificate.serial'),
      }));
    for (const c of leaves(capture).values()) {
      const { selfSigned: _, ...mine } = c;
      t.ok(zeek.includes(JSON.stringify(mine)), `${capture}: ${JSON.stringify(mine)}`);
      checked++;
    }
  }
  t.ok(checked >= 3, `${checked} leaves checked`);
  t.end();
});

/** RFC 4514 text back to nDPI's form: RDNs in DER order, ", " between, only the six
 * attribute types nDPI prints, no escapes. */
function ndpiName(rfc4514: string): string {
  const kept = new Set(['C', 'ST', 'L', 'O', 'OU', 'CN']);
  return rfc4514.split(/(?<!\\)[,+]/).reverse().filter((p) => kept.has(p.split('=')[0]))
    .map((p) => p.replace(/\\(.)/g, '$1')).join(', ');
}

t.test('leaves agree with nDPI (issuer, subject, validity)', (t) => {
  let agree = 0;
  let total = 0;
  for (const out of fs.readdirSync(CORPUS).filter((f) => f.endsWith('.ndpi.out'))) {
    const capture = out.replace(/\.ndpi\.out$/, '');
    const flows = readNdpi(path.join(CORPUS, out)).filter((f) => f.validity !== undefined);
    if (flows.length === 0 || !fs.existsSync(path.join(CORPUS, capture))) continue;
    const mine = leaves(capture);
    for (const f of flows) {
      const c = mine.get(f.pairKey);
      const day = (iso: string): string => iso.replace('T', ' ').replace('Z', '');
      const got = c && `${ndpiName(c.issuer)} | ${ndpiName(c.subject)} | ` +
        `${day(c.notBefore)} - ${day(c.notAfter)}`;
      const want = `${f.issuer} | ${f.subject} | ${f.validity}`;
      total++;
      if (got === want) agree++;
      else t.comment(`${capture} ${f.pairKey}: nDPI ${want}; ours ${got}`);
    }
  }
  t.comment(`certificates: ${agree} / ${total} agree with nDPI`);
  t.ok(total >= 30 && agree / total >= 0.95, `${agree} / ${total}`);
  t.end();
});
