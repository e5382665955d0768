// JA4 TLS client fingerprint, a pure function of a parsed ClientHello, following FoxIO's
// specification (github.com/FoxIO-LLC/ja4, technical_details/JA4.md). Shape:
//   a: transport, version, SNI flag, cipher count, extension count, ALPN first+last
//   b: truncated SHA-256 of the sorted cipher list
//   c: truncated SHA-256 of the sorted extensions (SNI and ALPN removed) '_' signature algs
// GREASE is already gone from the record (the spec: ignore GREASE wherever it appears).

import { isAlpha, isDigit } from '../protocols/reader';
import { TLS_EXTENSION, TLS_VERSION } from '../protocols/tls/constants';
import { highestOfferedVersion } from '../protocols/tls/client-hello';
import type { TlsClientHello } from '../protocols/tls/types';
import { hexDigest } from './digest';

/** Version codes of JA4_a (spec, "TLS and DTLS Version"); anything else is "00". */
const JA4_VERSION: Readonly<Record<number, string>> = {
  [TLS_VERSION.TLS_1_3]: '13', [TLS_VERSION.TLS_1_2]: '12', [TLS_VERSION.TLS_1_1]: '11',
  [TLS_VERSION.TLS_1_0]: '10', [TLS_VERSION.SSL_3_0]: 's3', [TLS_VERSION.SSL_2_0]: 's2',
  [TLS_VERSION.DTLS_1_0]: 'd1', [TLS_VERSION.DTLS_1_2]: 'd2', [TLS_VERSION.DTLS_1_3]: 'd3',
};
const JA4_UNKNOWN_VERSION = '00';
/** Counts are two digits: more than 99 prints "99" (spec, "Number of Ciphers"). */
const JA4_MAX_COUNT = 99;
/** Hashes are the first 12 hex digits of SHA-256, lower case. */
const JA4_HASH_CHARS = 12;
/** An empty list is shown as twelve zeros rather than the hash of nothing. */
const JA4_EMPTY_HASH = '000000000000';
const JA4_NO_ALPN = '00';

export type Ja4Transport = 't' | 'q' | 'd';

export function ja4(ch: TlsClientHello, transport: Ja4Transport): { ja4: string; ja4_r: string } {
  const a = transport + ja4Version(ch) + ja4Sni(ch) + count2(ch.ciphers.length) +
    count2(ch.extensions.length) + ja4Alpn(ch.alpn);

  // Ciphers as 4-digit lower-case hex, sorted: fixed width makes numeric order hex order.
  const ciphers = hexList(Uint16Array.from(ch.ciphers).sort());
  // SNI and ALPN are left out of the extension list: section a already shows them, and
  // leaving them out keeps c the same whether the client dials a name or an address.
  const extensions = hexList(Uint16Array.from(ch.extensions.filter(
    (e) => e !== TLS_EXTENSION.SERVER_NAME && e !== TLS_EXTENSION.ALPN)).sort());
  // Signature algorithms follow in wire order; with none, the string has no underscore.
  const sigs = hexList(ch.signatureAlgorithms);
  const c = sigs === '' ? extensions : `${extensions}_${sigs}`;

  return {
    ja4: `${a}_${hash12(ciphers)}_${extensions === '' ? JA4_EMPTY_HASH : hash12(c)}`,
    ja4_r: `${a}_${ciphers}_${c}`,
  };
}

/**
 * The highest supported_versions entry when that extension is present, else the
 * ClientHello's version field; the record layer's version is ignored. An extension that
 * held only GREASE counts as absent.
 */
function ja4Version(ch: TlsClientHello): string {
  return JA4_VERSION[highestOfferedVersion(ch)] ?? JA4_UNKNOWN_VERSION;
}

/** "d" when the server_name extension is present (a domain), else "i" (an IP address). */
function ja4Sni(ch: TlsClientHello): string {
  return ch.extensions.includes(TLS_EXTENSION.SERVER_NAME) ? 'd' : 'i';
}

function count2(n: number): string {
  return String(Math.min(n, JA4_MAX_COUNT)).padStart(2, '0');
}

/**
 * First and last character of the first ALPN value; "00" when there is none or it is
 * empty; a one-character value gives that character twice. When either end byte is not
 * ASCII alphanumeric, the first and last characters of the value's hex form are used.
 */
export function ja4Alpn(alpn: readonly string[]): string {
  const first = alpn[0];
  if (first === undefined || first.length === 0) return JA4_NO_ALPN;
  const head = first.charCodeAt(0);
  const tail = first.charCodeAt(first.length - 1);
  if (isAlphanumeric(head) && isAlphanumeric(tail)) return first[0] + first[first.length - 1];
  const hex = Buffer.from(first, 'latin1').toString('hex');
  return hex[0] + hex[hex.length - 1];
}

/** 0x30-0x39, 0x41-0x5A, 0x61-0x7A, the ranges the spec names. */
function isAlphanumeric(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}

const HEX_DIGITS = '0123456789abcdef';

/** Values as comma-separated 4-digit lower-case hex (a hot path: no padStart, no map). */
function hexList(values: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) s += ',';
    s += HEX_DIGITS[(v >> 12) & 15] + HEX_DIGITS[(v >> 8) & 15] + HEX_DIGITS[(v >> 4) & 15] +
      HEX_DIGITS[v & 15];
  }
  return s;
}

function hash12(s: string): string {
  if (s === '') return JA4_EMPTY_HASH;
  return hexDigest('sha256', s).slice(0, JA4_HASH_CHARS);
}
