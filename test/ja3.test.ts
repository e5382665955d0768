// JA3 and JA3S (salesforce/ja3) on fixtures and against nDPI on every TCP flow it lists with
// a value (every disagreement listed with both values; agreement must reach 99 %), plus the
// Korving DoH dataset's JA3 lists, and tlsFingerprints() filling the flow record's fields.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { hexDigest, streamedHexDigest } from '../src/fingerprints/digest';
import { ja3, ja3s } from '../src/fingerprints/ja3';
import { tlsFingerprints } from '../src/fingerprints/tls';
import { parseTlsClientHello, parseTlsServerFlight } from '../src/protocols/tls/handshake';
import type { TlsClientHello, TlsServerHello } from '../src/protocols/tls/types';
import * as F from './helpers/tls-fixtures';
import { CORPUS, pairKey, readNdpi, tcpConnections } from './helpers/tls-streams';

const REQUIRED_AGREEMENT = 0.99;

function hello(b: Uint8Array): TlsClientHello {
  const r = parseTlsClientHello(b, 0, b.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  return r.record;
}

function flight(b: Uint8Array): TlsServerHello {
  const r = parseTlsServerFlight(b, 0, b.length);
  if (r.status !== 'ok') throw new Error(JSON.stringify(r));
  return r.record;
}

t.test('both digest paths give the same hex', (t) => {
  for (const alg of ['md5', 'sha256'] as const) {
    t.equal(hexDigest(alg, '771,4865,51-43'), streamedHexDigest(alg, '771,4865,51-43'), alg);
  }
  t.end();
});

t.test('fixtures: values nDPI reports for the same handshake', (t) => {
  t.equal(ja3(hello(F.SELFSIGNED_CLIENT_HELLO)).ja3, '2a26b1a62e40d25d4de3babc9d532f30');
  t.same(ja3s(flight(F.SELFSIGNED_SERVER_FLIGHT)), {
    ja3s: '0debd3853f330c574b05e0b6d882dc27', ja3s_full: '771,49200,65281-11',
  });
  t.end();
});

t.test('the field string: legacy version, decimal lists, GREASE gone', (t) => {
  const firefox = ja3(hello(F.FIREFOX_CLIENT_HELLO)).ja3_full;
  t.equal(firefox, '771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-' +
    '49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,' +
    '29-23-24-25-256-257,0');
  const chrome = ja3(hello(F.CHROME_CLIENT_HELLO)).ja3_full;
  const grease = Array.from({ length: 16 }, (_, i) => String(0x0a0a + i * 0x1010));
  t.notOk(chrome.split(/[,-]/).some((v) => grease.includes(v)), 'no GREASE value anywhere');
  t.equal(chrome.split(',')[0], '771', 'TLS 1.3 clients still show 771');
  // Empty lists leave empty fields.
  const bare = { ...hello(F.FIREFOX_CLIENT_HELLO), extensions: [], groups: [],
    pointFormats: [] };
  t.equal(ja3(bare).ja3_full.split(',').slice(2).join(','), ',,');
  t.end();
});

interface Tally {
  agree: number;
  total: number;
}

t.test('agreement with nDPI on every TCP flow it gives a JA3C or JA3S', (t) => {
  const client: Tally = { agree: 0, total: 0 };
  const server: Tally = { agree: 0, total: 0 };
  for (const f of fs.readdirSync(CORPUS)) {
    const m = /^(.*)\.ndpi\.out$/.exec(f);
    if (m === null || !fs.existsSync(path.join(CORPUS, m[1]))) continue;
    const flows = readNdpi(path.join(CORPUS, f))
      .filter((x) => x.transport === 'tcp' && (x.ja3c !== undefined || x.ja3s !== undefined));
    if (flows.length === 0) continue;
    const mine = new Map<string, { c?: string; s?: string }>();
    for (const c of tcpConnections(path.join(CORPUS, m[1]))) {
      const ch = parseTlsClientHello(c.clientBytes, 0, c.clientBytes.length);
      const sh = parseTlsServerFlight(c.serverBytes, 0, c.serverBytes.length, true);
      mine.set(pairKey(c.client, c.server), {
        c: ch.status === 'ok' ? ja3(ch.record).ja3 : `(${ch.status})`,
        s: sh.status === 'ok' ? ja3s(sh.record).ja3s : `(${sh.status})`,
      });
    }
    for (const x of flows) {
      const got = mine.get(x.pairKey);
      for (const [want, have, tally, name] of [[x.ja3c, got?.c, client, 'JA3C'],
        [x.ja3s, got?.s, server, 'JA3S']] as const) {
        if (want === undefined) continue;
        tally.total++;
        if (have === want) tally.agree++;
        else t.comment(`${name} ${m[1]} ${x.pairKey}: nDPI ${want}, ours ${String(have)}`);
      }
    }
  }
  t.comment(`JA3 vs nDPI: ${client.agree} / ${client.total}; ` +
    `JA3S vs nDPI: ${server.agree} / ${server.total}`);
  for (const [name, x] of [['JA3', client], ['JA3S', server]] as const) {
    t.ok(x.total >= 100 && x.agree / x.total >= REQUIRED_AGREEMENT,
      `${name}: ${x.agree} / ${x.total} agree`);
  }
  t.end();
});

t.test('the Korving DoH tunnel dataset: its JA3 and JA3S lists', (t) => {
  for (const f of fs.readdirSync(CORPUS)) {
    const m = /^(.*)\.(ja3s?)\.txt$/.exec(f);
    if (m === null || !fs.existsSync(path.join(CORPUS, m[1]))) continue;
    const want = fs.readFileSync(path.join(CORPUS, f), 'utf8').split(/\s+/).filter(Boolean);
    const got = new Set<string>();
    for (const c of tcpConnections(path.join(CORPUS, m[1]))) {
      const ch = parseTlsClientHello(c.clientBytes, 0, c.clientBytes.length);
      const sh = parseTlsServerFlight(c.serverBytes, 0, c.serverBytes.length, true);
      if (m[2] === 'ja3' && ch.status === 'ok') got.add(ja3(ch.record).ja3);
      if (m[2] === 'ja3s' && sh.status === 'ok') got.add(ja3s(sh.record).ja3s);
    }
    for (const w of want) t.ok(got.has(w), `${f}: ${w}`);
  }
  t.end();
});

t.test('tlsFingerprints fills what each side showed', (t) => {
  const ch = hello(F.CHROME_CLIENT_HELLO);
  const sh = flight(F.CHROME_SERVER_HELLO);
  const both = tlsFingerprints(ch, sh);
  t.match(both, {
    transport: 't', ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    ja3: ja3(ch).ja3, ja3_full: ja3(ch).ja3_full, ja3s: ja3s(sh).ja3s,
    ja3s_full: '771,4865,51-43', client_version: '1.3', server_version: '1.3',
    server_cipher: '0x1301', alpn: ['h2', 'http/1.1'],
  });
  t.ok(both.ja4_r?.startsWith('t13d1516h2_002f,'));
  t.equal(both.sni, 'clientservices.googleapis.com');
  t.equal(both.server_alpn, undefined, 'TLS 1.3 sends ALPN encrypted');

  const tls12 = tlsFingerprints(undefined, flight(F.SELFSIGNED_SERVER_FLIGHT), 'd');
  t.equal(tls12.transport, 'd');
  t.equal(tls12.ja4, undefined);
  t.equal(tls12.server_version, '1.2');
  t.equal(tls12.certificate?.subject, 'O=ntop.org,ST=Some-State,C=IT');

  const quic = tlsFingerprints({ ...ch, alpn: [], sni: undefined, legacyVersion: 0x0301,
    supportedVersions: [] }, { ...sh, selectedVersion: undefined, legacyVersion: 0x7f17,
    alpn: 'h3' }, 'q');
  t.match(quic, { client_version: '1.0', server_version: '0x7f17', server_alpn: 'h3' });
  t.equal(quic.alpn, undefined);
  t.same(tlsFingerprints(), { transport: 't' });
  t.end();
});
