// TLS over TCP from the start of one direction's stream: the record layer (RFC 8446 section
// 5.1, RFC 5246 section 6.2.1) is walked while records carry handshake data, their payloads
// joined, and the first flight's messages parsed from that. A handshake message may span
// records and a record may hold several messages, so records are not trusted as message
// boundaries. Pure; never throws on packet input.

import type { ParseResult } from '../../fingerprints/types';
import { u16be, u8 } from '../reader';
import { parseCertificateMessageLeaf } from './certificate';
import { parseClientHelloMessage } from './client-hello';
import {
  MAX_TLS_RECORD_BYTES, SSL2_MSG_CLIENT_HELLO, TLS_CONTENT_TYPE, TLS_HANDSHAKE_MAX_BYTES,
  TLS_HANDSHAKE_TYPE, TLS_MAX_PREAMBLE_BYTES, TLS_RECORD_HEADER_BYTES, TLS_VERSION,
  TLS_VERSION_MAJOR, TLS_VERSION_MAX_MINOR,
} from './constants';
import { Invalid, NEED_MORE, invalid } from './fields';
import { parseServerHelloMessage } from './server-hello';
import type { TlsClientHello, TlsServerHello } from './types';

export { parseClientHelloMessage } from './client-hello';
export { parseServerHelloMessage } from './server-hello';
export type { TlsClientHello, TlsServerHello } from './types';

/** The handshake bytes carried by the leading run of handshake records. */
interface HandshakeRun {
  bytes: Uint8Array;
  off: number;
  len: number;
  /** A record of another type (ChangeCipherSpec, alert, encrypted data) ended the run: no
   * more cleartext handshake will follow from this peer. */
  closed: boolean;
  /** TLS_HANDSHAKE_MAX_BYTES was reached. */
  capped: boolean;
}

/**
 * Client stream from its first byte: the first ClientHello, after a proxy or STARTTLS
 * preamble if there is one. need-more until it is complete; `consumed` reaches the end of
 * the record holding its last byte.
 */
export function parseTlsClientHello(
  buf: Uint8Array, off: number, len: number,
): ParseResult<TlsClientHello> {
  const end = Math.min(off + len, buf.length);
  const start = findHandshakeStart(buf, off, end, TLS_HANDSHAKE_TYPE.CLIENT_HELLO);
  if (typeof start !== 'number') return start;
  const run = collectHandshake(buf, start, end);
  if ('status' in run) return run;
  const r = parseClientHelloMessage(run.bytes, run.off, run.len);
  if (r.status === 'need-more') return unfinished(run, false);
  if (r.status === 'invalid') return r;
  const consumed = start - off + streamBytesFor(buf, start, end, r.consumed);
  return { status: 'ok', record: r.record, consumed };
}

/**
 * Server stream from its first byte: the ServerHello and, when the version is TLS 1.2 or
 * below, the leaf of the Certificate message right after it (RFC 5246 section 7.4.2).
 * need-more until the certificate arrives or the stream shows it will not: another message
 * type, a non-handshake record, or TLS 1.3 (whose certificate is encrypted). `final` says
 * no more bytes will come (stream full or closed): answer with what is there.
 */
export function parseTlsServerFlight(
  buf: Uint8Array, off: number, len: number, final = false,
): ParseResult<TlsServerHello> {
  const end = Math.min(off + len, buf.length);
  const start = findHandshakeStart(buf, off, end, TLS_HANDSHAKE_TYPE.SERVER_HELLO);
  if (typeof start !== 'number') return start;
  const run = collectHandshake(buf, start, end);
  if ('status' in run) return run;
  const sh = parseServerHelloMessage(run.bytes, run.off, run.len);
  if (sh.status === 'need-more') return unfinished(run, final);
  if (sh.status === 'invalid') return sh;

  const record = sh.record;
  let used = sh.consumed;
  const done = (): ParseResult<TlsServerHello> =>
    ({ status: 'ok', record, consumed: start - off + streamBytesFor(buf, start, end, used) });
  if (!expectsCertificate(record)) return done();

  const cert = parseCertificateMessageLeaf(run.bytes, run.off + used, run.len - used);
  if (cert.status === 'need-more') {
    return run.closed || run.capped || final ? done() : NEED_MORE;
  }
  // Any other message (ServerKeyExchange for anonymous or PSK suites, ServerHelloDone) or a
  // malformed certificate: the ServerHello stands without one.
  if (cert.status === 'ok') {
    record.certificate = cert.record;
    used += cert.consumed;
  }
  return done();
}

/**
 * TLS 1.3 and its drafts (0x7fxx) name their version in supported_versions; a
 * HelloRetryRequest is answered by a second ClientHello. Neither shows a certificate.
 */
function expectsCertificate(sh: TlsServerHello): boolean {
  const version = sh.selectedVersion ?? sh.legacyVersion;
  if (sh.helloRetry || version === TLS_VERSION.TLS_1_3) return false;
  return version >> 8 === TLS_VERSION_MAJOR;
}

function unfinished(run: HandshakeRun, final: boolean): Invalid | typeof NEED_MORE {
  if (run.capped) return invalid('handshake_too_long');
  return run.closed || final ? invalid('truncated_handshake') : NEED_MORE;
}

/**
 * Where the handshake starts: at `off` when the stream opens with a handshake record, else
 * after a proxy or STARTTLS preamble (HTTP CONNECT, SOCKS, SMTP/IMAP/IRC STARTTLS), at the
 * first record header that announces a `helloType` message within TLS_MAX_PREAMBLE_BYTES.
 */
function findHandshakeStart(
  buf: Uint8Array, off: number, end: number, helloType: number,
): number | Invalid | typeof NEED_MORE {
  const first = u8(buf, off, end);
  if (first < 0) return NEED_MORE;
  if (first === TLS_CONTENT_TYPE.HANDSHAKE) return off;
  // SSLv2 record header: high bit set, then msg_type 1 (RFC 5246 appendix E.2).
  // gap: such hellos are named, not parsed, so they get no JA3 or JA4; clients that still
  // send them are rare and the fingerprint tools disagree on how to read them.
  if ((first & 0x80) !== 0 && u8(buf, off + 2, end) === SSL2_MSG_CLIENT_HELLO) {
    return invalid('sslv2_client_hello');
  }
  const limit = Math.min(end, off + TLS_MAX_PREAMBLE_BYTES);
  for (let i = off + 1; i < limit; i++) {
    if (u8(buf, i, end) !== TLS_CONTENT_TYPE.HANDSHAKE) continue;
    // Record type, version 3.x, length, then the handshake type: 6 bytes to decide on.
    if (i + TLS_RECORD_HEADER_BYTES + 1 > end) return NEED_MORE;
    const major = u8(buf, i + 1, end);
    const minor = u8(buf, i + 2, end);
    const type = u8(buf, i + TLS_RECORD_HEADER_BYTES, end);
    if (major === TLS_VERSION_MAJOR && minor <= TLS_VERSION_MAX_MINOR && type === helloType) {
      return i;
    }
  }
  return end - off >= TLS_MAX_PREAMBLE_BYTES ? invalid('not_handshake_record') : NEED_MORE;
}

/**
 * Walks records from `off` while they are handshake records and joins their payloads
 * (a partial last record contributes what is there). One record needs no copy.
 */
function collectHandshake(
  buf: Uint8Array, off: number, end: number,
): HandshakeRun | Invalid | typeof NEED_MORE {
  let total = 0;
  let records = 0;
  let firstStart = 0;
  let closed = false;
  let capped = false;
  for (let p = off; ;) {
    const type = u8(buf, p, end);
    const major = u8(buf, p + 1, end);
    const length = u16be(buf, p + 3, end);
    if (type >= 0 && type !== TLS_CONTENT_TYPE.HANDSHAKE) {
      closed = true;
      break;
    }
    if (major >= 0 && major !== TLS_VERSION_MAJOR) {
      if (p === off) return invalid('bad_record_version');
      closed = true;
      break;
    }
    if (length > MAX_TLS_RECORD_BYTES) {
      if (p === off) return invalid('record_too_long');
      closed = true;
      break;
    }
    if (length < 0) break;
    const start = p + TLS_RECORD_HEADER_BYTES;
    const take = Math.min(length, end - start, TLS_HANDSHAKE_MAX_BYTES - total);
    if (records++ === 0) firstStart = start;
    total += take;
    if (total >= TLS_HANDSHAKE_MAX_BYTES) {
      capped = true;
      break;
    }
    if (start + length > end) break;
    p = start + length;
  }
  if (records === 0) return NEED_MORE;
  if (records === 1) return { bytes: buf, off: firstStart, len: total, closed, capped };
  return { bytes: joinPayloads(buf, off, end, total), off: 0, len: total, closed, capped };
}

/** Copies the payloads of the leading handshake records, `total` bytes in all. */
function joinPayloads(buf: Uint8Array, off: number, end: number, total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (let p = off; at < total;) {
    const start = p + TLS_RECORD_HEADER_BYTES;
    const take = Math.min(u16be(buf, p + 3, end), end - start, total - at);
    out.set(buf.subarray(start, start + take), at);
    at += take;
    p = start + take;
  }
  return out;
}

/** Stream bytes from `off` to the end of the record that holds handshake byte n - 1. */
function streamBytesFor(buf: Uint8Array, off: number, end: number, n: number): number {
  let seen = 0;
  for (let p = off; ;) {
    const length = u16be(buf, p + 3, end);
    if (length < 0) return end - off;
    seen += length;
    p += TLS_RECORD_HEADER_BYTES + length;
    if (seen >= n) return Math.min(p, end) - off;
  }
}
