// JA4 TLS client fingerprint, a pure function of a parsed ClientHello, following FoxIO's
// specification (github.com/FoxIO-LLC/ja4, technical_details/JA4.md). Shape:
//   a: transport, version, SNI flag, cipher count, extension count, ALPN first+last
//   b: truncated SHA-256 of the sorted cipher list
//   c: truncated SHA-256 of the sorted extensions (SNI and ALPN removed) '_' signature algs
// GREASE is already gone from the record (the spec: ignore GREASE wherever it appears).

import { createHash } from 'node:crypto';
import { isAlpha, isDigit } from '../protocols/reader';
import { TLS_EXTENSION, TLS_VERSION } from '../protocols/tls/constants';
import { highestOfferedVersion } from '../protocols/tls/client-hello';
import type { TlsClientHello } from '../protocols/tls/types';

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

  // Ciphers as 4-digit lower-case hex, sorted; fixed width makes string order hex order.
  const ciphers = ch.ciphers.map(hex4).sort().join(',');
  // SNI and ALPN are left out of the extension list: section a already shows them, and
  // leaving them out keeps c the same whether the client dials a name or an address.
  const extensions = ch.extensions
    .filter((e) => e !== TLS_EXTENSION.SERVER_NAME && e !== TLS_EXTENSION.ALPN)
    .map(hex4).sort().join(',');
  // Signature algorithms follow in wire order; with none, the string has no underscore.
  const sigs = ch.signatureAlgorithms.map(hex4).join(',');
  const c = sigs === '' ? extensions : `${extensions}_${sigs}`;

  return {
    ja4: `${a}_${hash12(ciphers)}_${extensions === '' ? JA4_EMPTY_HASH : hash12(c)}`,
    ja4_r: `${a}_${ciphers}_${c}`,
  };
}

/**
 * The highest supported_versions entry when that extension is present, else the
 * ClientHello's version field; the record layer's version is ignored.
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

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function hash12(s: string): string {
  if (s === '') return JA4_EMPTY_HASH;
  return createHash('sha256').update(s).digest('hex').slice(0, JA4_HASH_CHARS);
}
