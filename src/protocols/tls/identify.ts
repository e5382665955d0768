// TLS: the first handshake record, ClientHello from the client or ServerHello from the
// server (RFC 8446 sections 4 and 5.1), plus the SSLv2-compatible ClientHello that old
// clients send (RFC 5246 appendix E.2).

import { PROTO } from '../proto';
import { u16be, u24be, u8 } from '../reader';
import {
  MAX_HELLO_BYTES, MAX_SESSION_ID_BYTES, MAX_TLS_RECORD_BYTES, MIN_CLIENT_HELLO_BYTES,
  MIN_SERVER_HELLO_BYTES, SSL2_CIPHER_SPEC_BYTES, SSL2_CLIENT_HELLO_FIXED_BYTES,
  SSL2_MAX_CHALLENGE_BYTES, SSL2_MIN_CHALLENGE_BYTES, SSL2_MSG_CLIENT_HELLO,
  SSL2_SESSION_ID_BYTES, SSL2_VERSION, TLS_CONTENT_TYPE, TLS_HANDSHAKE_HEADER_BYTES,
  TLS_HANDSHAKE_TYPE, TLS_RECORD_HEADER_BYTES, TLS_VERSION_MAJOR, TLS_VERSION_MAX_MINOR,
} from './constants';

/** Offset of legacy_session_id's length byte inside a hello body: after version and random. */
const SESSION_ID_LENGTH_OFFSET = 34;

export function identifyTls(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  const first = u8(b, off, end);
  if (first === TLS_CONTENT_TYPE.HANDSHAKE) return identifyTlsRecord(b, off, end, fromClient);
  if (first >= 0x80 && fromClient) return identifySsl2ClientHello(b, off, end);
  return PROTO.UNKNOWN;
}

function isTlsVersion(b: Uint8Array, i: number, end: number): boolean {
  return u8(b, i, end) === TLS_VERSION_MAJOR && u8(b, i + 1, end) <= TLS_VERSION_MAX_MINOR &&
    u8(b, i + 1, end) >= 0;
}

function identifyTlsRecord(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  // Record header: content type (1), legacy_record_version (2), length (2).
  if (!isTlsVersion(b, off + 1, end)) return PROTO.UNKNOWN;
  const recordLength = u16be(b, off + 3, end);
  const minBody = fromClient ? MIN_CLIENT_HELLO_BYTES : MIN_SERVER_HELLO_BYTES;
  if (recordLength < TLS_HANDSHAKE_HEADER_BYTES + minBody) return PROTO.UNKNOWN;
  if (recordLength > MAX_TLS_RECORD_BYTES) return PROTO.UNKNOWN;

  // Handshake header: msg_type (1), length (3).
  const h = off + TLS_RECORD_HEADER_BYTES;
  const expected = fromClient ? TLS_HANDSHAKE_TYPE.CLIENT_HELLO : TLS_HANDSHAKE_TYPE.SERVER_HELLO;
  if (u8(b, h, end) !== expected) return PROTO.UNKNOWN;
  const helloLength = u24be(b, h + 1, end);
  if (helloLength < minBody || helloLength > MAX_HELLO_BYTES) return PROTO.UNKNOWN;
  // A hello longer than its record continues in the next one (RFC 8446 section 5.1 lets
  // handshake messages span records), so helloLength may exceed the record.
  // gap: a ClientHello split into records smaller than a minimal hello (a DPI-evasion
  // trick) is not recognised; the record-length floor above rejects it.

  // Hello body: legacy_version (2) must be 3.x; session id length at most 32.
  const body = h + TLS_HANDSHAKE_HEADER_BYTES;
  if (!isTlsVersion(b, body, end)) return PROTO.UNKNOWN;
  const sessionIdLength = u8(b, body + SESSION_ID_LENGTH_OFFSET, end);
  if (sessionIdLength > MAX_SESSION_ID_BYTES) return PROTO.UNKNOWN;
  return PROTO.TLS;
}

/**
 * SSLv2 record header with 2-byte length (high bit set), then CLIENT-HELLO: msg_type 1,
 * version (0x0002 or 3.x), cipher_spec_length (multiple of 3, non-zero), session_id_length
 * (0 or 16), challenge_length (16..32); the record length covers exactly these.
 */
function identifySsl2ClientHello(b: Uint8Array, off: number, end: number): number {
  const recordLength = u16be(b, off, end) & 0x7fff;
  const m = off + 2;
  if (u8(b, m, end) !== SSL2_MSG_CLIENT_HELLO) return PROTO.UNKNOWN;
  const version = u16be(b, m + 1, end);
  if (version !== SSL2_VERSION && !isTlsVersion(b, m + 1, end)) return PROTO.UNKNOWN;
  const cipherSpecLength = u16be(b, m + 3, end);
  const sessionIdLength = u16be(b, m + 5, end);
  const challengeLength = u16be(b, m + 7, end);
  if (cipherSpecLength <= 0 || cipherSpecLength % SSL2_CIPHER_SPEC_BYTES !== 0) {
    return PROTO.UNKNOWN;
  }
  if (sessionIdLength !== 0 && sessionIdLength !== SSL2_SESSION_ID_BYTES) return PROTO.UNKNOWN;
  if (challengeLength < SSL2_MIN_CHALLENGE_BYTES || challengeLength > SSL2_MAX_CHALLENGE_BYTES) {
    return PROTO.UNKNOWN;
  }
  const bodyLength =
    SSL2_CLIENT_HELLO_FIXED_BYTES + cipherSpecLength + sessionIdLength + challengeLength;
  return recordLength === bodyLength ? PROTO.TLS : PROTO.UNKNOWN;
}
