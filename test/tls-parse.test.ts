// TLS handshake parsers: hex fixtures from real handshakes, named hostile inputs, every
// prefix of every hello in the corpus captures (need-more or the same result, never a throw),
// and random bytes of every length up to 4 KB (never a throw).

import fc from 'fast-check';
import t from 'tap';
import path from 'node:path';
import {
  parseCertificateMessageLeaf, parseX509Certificate,
} from '../src/protocols/tls/certificate';
import {
  TLS_HELLO_RETRY_RANDOM, TLS_MAX_PREAMBLE_BYTES, isGrease,
} from '../src/protocols/tls/constants';
import {
  parseClientHelloMessage, parseServerHelloMessage, parseTlsClientHello, parseTlsServerFlight,
} from '../src/protocols/tls/handshake';
import type { ParseResult } from '../src/fingerprints/types';
import * as F from './helpers/tls-fixtures';
import { CORPUS, corpusCaptures, tcpConnections } from './helpers/tls-streams';

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));

/** Handshake bytes split into records of at most `size` payload bytes each. */
function records(hs: Uint8Array, size: number, type = 22): Uint8Array {
  const out: Uint8Array[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const part = hs.subarray(i, Math.min(i + size, hs.length));
    out.push(Uint8Array.from([type, 3, 3, part.length >> 8, part.length & 0xff]), part);
  }
  return cat(...out);
}

/** The handshake bytes of a one-record fixture. */
const body = (fixture: Uint8Array): Uint8Array => fixture.subarray(5);

function clientHello(b: Uint8Array): ParseResult<unknown> {
  return parseTlsClientHello(b, 0, b.length);
}

function mutate(b: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const out = Uint8Array.from(b);
  out.set(bytes, at);
  return out;
}

t.test('Firefox ClientHello (one record, TLS 1.3 offer)', (t) => {
  const r = parseTlsClientHello(F.FIREFOX_CLIENT_HELLO, 0, F.FIREFOX_CLIENT_HELLO.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  const ch = r.record;
  t.equal(r.consumed, 517);
  t.equal(ch.legacyVersion, 0x0303);
  t.same(ch.supportedVersions, [0x0304, 0x0303]);
  t.equal(ch.sni, 'contile.services.mozilla.com');
  t.same(ch.alpn, ['h2', 'http/1.1']);
  t.equal(ch.ciphers.length, 17);
  t.equal(ch.ciphers[0], 0x1301);
  t.equal(ch.extensions.length, 15);
  t.same(ch.pointFormats, [0]);
  t.same(ch.groups.slice(0, 2), [0x001d, 0x0017]);
  t.equal(ch.grease, false);
  t.end();
});

t.test('Chrome ClientHello: GREASE dropped everywhere, and noticed', (t) => {
  const r = parseTlsClientHello(F.CHROME_CLIENT_HELLO, 0, F.CHROME_CLIENT_HELLO.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  const ch = r.record;
  t.equal(ch.grease, true);
  for (const list of [ch.ciphers, ch.extensions, ch.groups, ch.supportedVersions,
    ch.signatureAlgorithms]) {
    t.notOk(list.some(isGrease));
  }
  t.equal(ch.ciphers.length, 15);
  t.equal(ch.extensions.length, 16);
  t.end();
});

t.test('records are not message boundaries', (t) => {
  const want = clientHello(F.FIREFOX_CLIENT_HELLO);
  const hs = body(F.FIREFOX_CLIENT_HELLO);
  for (const size of [1, 7, 100, 511]) {
    const split = records(hs, size);
    const r = clientHello(split);
    t.same(r, { ...want, consumed: split.length }, `records of ${size} bytes`);
  }
  // A ClientHello followed by another message in the same record.
  const two = records(cat(hs, Uint8Array.from([20, 0, 0, 0])), 1 << 14);
  t.same(clientHello(two), { ...want, consumed: two.length }, 'two messages in one record');
  t.end();
});

t.test('the raw message entry point (QUIC CRYPTO frames carry no records)', (t) => {
  const hs = body(F.CHROME_CLIENT_HELLO);
  const r = parseClientHelloMessage(cat(hs, ascii('trailing')), 0, hs.length + 8);
  t.equal(r.status, 'ok');
  t.equal(r.status === 'ok' && r.consumed, hs.length);
  t.same(parseClientHelloMessage(hs, 0, hs.length - 1), { status: 'need-more' });
  t.same(parseClientHelloMessage(hs, 0, 3), { status: 'need-more' });
  const sh = body(F.CHROME_SERVER_HELLO);
  t.equal(parseServerHelloMessage(sh, 0, sh.length).status, 'ok');
  t.same(parseServerHelloMessage(hs, 0, hs.length),
    { status: 'invalid', reason: 'not_server_hello' });
  // A body too short for the 32-byte session id it announces.
  const short = mutate(sh, 1, [0, 0, 38]);
  t.same(parseServerHelloMessage(short, 0, short.length),
    { status: 'invalid', reason: 'truncated_hello' });
  t.end();
});

t.test('proxy and STARTTLS preambles before the first record', (t) => {
  const connect = ascii('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  const socks5 = Uint8Array.from([5, 1, 0, 5, 1, 0, 3, 11, ...ascii('example.com'), 1, 187]);
  for (const [name, pre] of [['CONNECT', connect], ['SOCKS5', socks5]] as const) {
    const r = clientHello(cat(pre, F.FIREFOX_CLIENT_HELLO));
    t.equal(r.status, 'ok', name);
    t.equal(r.status === 'ok' && r.consumed, pre.length + 517, `${name}: consumed`);
    t.same(clientHello(cat(pre, F.FIREFOX_CLIENT_HELLO.subarray(0, 3))), { status: 'need-more' });
  }
  const reply = ascii('HTTP/1.1 200 Connection established\r\n\r\n');
  const flight = cat(reply, F.SELFSIGNED_SERVER_FLIGHT);
  const s = parseTlsServerFlight(flight, 0, flight.length);
  t.equal(s.status === 'ok' && s.record.certificate?.subject, 'O=ntop.org,ST=Some-State,C=IT');
  t.same(clientHello(ascii('GET / HTTP/1.1\r\n')), { status: 'need-more' }, 'could still come');
  t.same(clientHello(new Uint8Array(TLS_MAX_PREAMBLE_BYTES).fill(0x41)),
    { status: 'invalid', reason: 'not_handshake_record' }, 'nothing within the preamble limit');
  t.end();
});

t.test('hostile and malformed ClientHellos, by name', (t) => {
  const ch = F.FIREFOX_CLIENT_HELLO;
  const hs = body(ch);
  const huge = new Uint8Array(70_000);
  huge.set([1, 0x01, 0x11, 0x70]); // a 70 000-byte ClientHello, bigger than the reassembly cap
  const cases: [string, Uint8Array, string][] = [
    ['sslv2_client_hello', Uint8Array.from([0x80, 0x2e, 1, 0, 2, 0, 0x15]), 'invalid'],
    ['bad_record_version', mutate(ch, 1, [9]), 'invalid'],
    ['record_too_long', mutate(ch, 3, [0xff, 0xff]), 'invalid'],
    ['not_client_hello', mutate(ch, 5, [2]), 'invalid'],
    ['hello_too_short', mutate(ch, 6, [0, 0, 10]), 'invalid'],
    ['hello_too_long', mutate(ch, 6, [0xff, 0xff, 0xff]), 'invalid'],
    ['bad_session_id', mutate(ch, 43, [33]), 'invalid'],
    ['bad_cipher_suites', mutate(ch, 76, [0, 0x21]), 'invalid'],
    ['bad_cipher_suites', mutate(ch, 76, [0x02, 0x00]), 'invalid'],
    ['bad_compression_methods', mutate(ch, 112, [0]), 'invalid'],
    ['bad_extensions', mutate(ch, 114, [0xff, 0xff]), 'invalid'],
    ['bad_extensions', mutate(ch, 118, [0xff, 0xff]), 'invalid'],
    ['truncated_handshake', cat(records(hs.subarray(0, 200), 200), records(hs, 9, 21)),
      'invalid'],
    ['handshake_too_long', records(huge, 16_384), 'invalid'],
    ['truncated_handshake', cat(records(hs.subarray(0, 200), 200),
      Uint8Array.from([22, 9, 9, 0, 1, 0])), 'invalid'],
    ['truncated_handshake', cat(records(hs.subarray(0, 200), 200),
      Uint8Array.from([22, 3, 3, 0xff, 0xff, 0])), 'invalid'],
  ];
  for (const [reason, bytes, status] of cases) {
    t.same(clientHello(bytes), { status, reason }, reason);
  }
  // Inner lists that do not add up: the extension still counts, its value is not taken.
  const badSni = clientHello(mutate(ch, 123, [0xff]));
  t.equal(badSni.status, 'ok', 'a malformed server_name list');
  if (badSni.status === 'ok') {
    const rec = badSni.record as { sni?: string; extensions: number[] };
    t.equal(rec.sni, undefined);
    t.equal(rec.extensions[0], 0);
  }
  const other = clientHello(mutate(ch, 122, [1]));
  t.equal(other.status, 'ok');
  t.equal((other as { record?: { sni?: string } }).record?.sni, undefined,
    'a ServerName that is not a host_name');
  const alpnAt = Buffer.from(ch).indexOf(Buffer.from([2, 0x68, 0x32])); // "\x02h2"
  const badAlpn = clientHello(mutate(ch, alpnAt, [0x20]));
  t.same((badAlpn as { record?: { alpn: string[] } }).record?.alpn, [],
    'an ALPN name longer than its list');
  t.same(clientHello(new Uint8Array(0)), { status: 'need-more' });
  t.same(parseTlsClientHello(ch, 5, 0), { status: 'need-more' }, 'empty window');
  t.same(parseTlsClientHello(ch, 0, 9999).status, 'ok', 'window past the array is clamped');
  t.end();
});

t.test('server flight: TLS 1.3 stops at the ServerHello', (t) => {
  const r = parseTlsServerFlight(F.CHROME_SERVER_HELLO, 0, F.CHROME_SERVER_HELLO.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  t.equal(r.consumed, 127);
  t.same(r.record, { legacyVersion: 0x0303, cipher: 0x1301, extensions: [0x33, 0x2b],
    selectedVersion: 0x0304 });
  // A HelloRetryRequest: the same shape with the special random.
  const hrr = mutate(F.CHROME_SERVER_HELLO, 11, [...TLS_HELLO_RETRY_RANDOM]);
  const h = parseTlsServerFlight(hrr, 0, hrr.length);
  t.equal(h.status === 'ok' && h.record.helloRetry, true);
  t.end();
});

t.test('server flight: TLS 1.2 waits for the certificate, or for a sign it will not come', (t) => {
  const flight = F.SELFSIGNED_SERVER_FLIGHT;
  const r = parseTlsServerFlight(flight, 0, flight.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  t.equal(r.consumed, flight.length);
  t.equal(r.record.cipher, 0xc030);
  t.same(r.record.certificate, {
    subject: 'O=ntop.org,ST=Some-State,C=IT', issuer: 'O=ntop.org,ST=Some-State,C=IT',
    notBefore: '2015-10-10T15:55:47Z', notAfter: '2016-10-09T15:55:47Z', selfSigned: true,
    serial: '916A4CD167871602',
  });

  // The ServerHello alone: maybe a certificate follows.
  const shLength = 5 + ((flight[3] << 8) | flight[4]);
  const sh = flight.subarray(0, shLength);
  t.same(parseTlsServerFlight(sh, 0, sh.length), { status: 'need-more' });
  const final = parseTlsServerFlight(sh, 0, sh.length, true);
  t.equal(final.status === 'ok' && final.record.certificate, undefined, 'final: no certificate');
  // Session resumption: ChangeCipherSpec follows, so no certificate will.
  const ccs = cat(sh, Uint8Array.from([20, 3, 3, 0, 1, 1]));
  t.equal(parseTlsServerFlight(ccs, 0, ccs.length).status, 'ok');
  // An anonymous suite: ServerKeyExchange straight after the ServerHello.
  const ske = cat(sh, records(Uint8Array.from([12, 0, 0, 2, 0, 0]), 64));
  const s = parseTlsServerFlight(ske, 0, ske.length);
  t.equal(s.status === 'ok' && s.consumed, sh.length, 'consumed stops at the ServerHello');
  t.same(parseTlsServerFlight(sh.subarray(0, 20), 0, 20, true),
    { status: 'invalid', reason: 'truncated_handshake' });
  t.same(parseTlsServerFlight(F.FIREFOX_CLIENT_HELLO, 0, 517),
    { status: 'invalid', reason: 'not_server_hello' });
  t.end();
});

/** Stable text of a result, so a prefix's answer can be compared with the whole one. */
const show = (r: ParseResult<unknown>): string => JSON.stringify(r.status === 'ok' ? r.record : r);

/** Every prefix answers need-more or ok with the whole stream's record; never throws. */
function checkPrefixes(
  bytes: Uint8Array, parse: (b: Uint8Array, n: number) => ParseResult<unknown>,
): string | undefined {
  const whole = show(parse(bytes, bytes.length));
  for (let n = 0; n < bytes.length; n++) {
    const r = parse(bytes, n);
    if (r.status === 'need-more') continue;
    if (r.status !== 'ok' || show(r) !== whole) return `prefix ${n}: ${show(r)}`;
  }
  return undefined;
}

t.test('every prefix of every hello in the corpus captures', (t) => {
  let hellos = 0;
  let flights = 0;
  let certificates = 0;
  const seen = new Set<string>();
  for (const capture of corpusCaptures()) {
    for (const c of tcpConnections(path.join(CORPUS, capture))) {
      const ch = parseTlsClientHello(c.clientBytes, 0, c.clientBytes.length);
      const sh = parseTlsServerFlight(c.serverBytes, 0, c.serverBytes.length);
      if (ch.status === 'ok') {
        const bytes = c.clientBytes.subarray(0, ch.consumed);
        const key = Buffer.from(bytes).toString('base64');
        if (!seen.has(key)) {
          seen.add(key);
          hellos++;
          const bad = checkPrefixes(bytes, (b, n) => parseTlsClientHello(b, 0, n));
          if (bad !== undefined) t.fail(`${capture} client: ${bad}`);
        }
      }
      if (sh.status === 'ok') {
        const bytes = c.serverBytes.subarray(0, sh.consumed);
        const key = Buffer.from(bytes).toString('base64');
        if (seen.has(key)) continue;
        seen.add(key);
        flights++;
        if (sh.record.certificate !== undefined) certificates++;
        const bad = checkPrefixes(bytes, (b, n) => parseTlsServerFlight(b, 0, n));
        if (bad !== undefined) t.fail(`${capture} server: ${bad}`);
      }
    }
  }
  t.comment(`distinct ClientHellos ${hellos}, server flights ${flights}, ` +
    `certificates ${certificates}`);
  t.ok(hellos >= 150, 'the corpus holds many ClientHellos');
  t.ok(flights >= 100 && certificates >= 40, 'and server flights with certificates');
  t.end();
});

const ENTRY_POINTS: [string, (b: Uint8Array) => ParseResult<unknown>][] = [
  ['parseTlsClientHello', (b) => parseTlsClientHello(b, 0, b.length)],
  ['parseTlsServerFlight', (b) => parseTlsServerFlight(b, 0, b.length)],
  ['parseTlsServerFlight final', (b) => parseTlsServerFlight(b, 0, b.length, true)],
  ['parseClientHelloMessage', (b) => parseClientHelloMessage(b, 0, b.length)],
  ['parseServerHelloMessage', (b) => parseServerHelloMessage(b, 0, b.length)],
  ['parseCertificateMessageLeaf', (b) => parseCertificateMessageLeaf(b, 0, b.length)],
  ['parseX509Certificate', (b) => parseX509Certificate(b, 0, b.length)],
];

function wellFormed(r: ParseResult<unknown>, n: number): boolean {
  if (r.status === 'need-more') return true;
  if (r.status === 'invalid') return typeof r.reason === 'string' && r.reason.length > 0;
  return r.status === 'ok' && r.consumed > 0 && r.consumed <= n;
}

t.test('random bytes of every length up to 4 KB never throw', (t) => {
  for (const [name, parse] of ENTRY_POINTS) {
    const noise = fc.uint8Array({ maxLength: 4096 });
    fc.assert(fc.property(noise, (b) => wellFormed(parse(b), b.length)), { numRuns: 300 });
    // Plausible headers make the parsers go deeper than pure noise does.
    const lead = fc.constantFrom([22, 3, 1], [22, 3, 3, 0x10, 0, 1], [1, 0, 1], [2, 0, 0],
      [11, 0, 1], [0x30, 0x82]);
    fc.assert(fc.property(lead, fc.uint8Array({ maxLength: 4096 }), (h, rest) => {
      const b = cat(Uint8Array.from(h), rest);
      return wellFormed(parse(b), b.length);
    }), { numRuns: 300 });
    t.pass(name);
  }
  t.end();
});

t.test('real hellos with random bytes overwritten never throw', (t) => {
  const samples = [F.FIREFOX_CLIENT_HELLO, F.CHROME_CLIENT_HELLO, F.CHROME_SERVER_HELLO,
    F.SELFSIGNED_SERVER_FLIGHT, body(F.CHROME_CLIENT_HELLO), F.SELFSIGNED_SERVER_FLIGHT.subarray(
      F.SELFSIGNED_SERVER_FLIGHT.length - 590)];
  const edit = fc.record({
    sample: fc.nat(samples.length - 1),
    cut: fc.nat(),
    writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
  });
  fc.assert(fc.property(edit, ({ sample, cut, writes }) => {
    const b = Uint8Array.from(samples[sample]);
    for (const [at, v] of writes) b[at % b.length] = v;
    const n = cut % (b.length + 1);
    return ENTRY_POINTS.every(([, parse]) => wellFormed(parse(b.subarray(0, n)), n));
  }), { numRuns: 2000 });
  t.end();
});
