// ClientHello message parser (RFC 8446 section 4.1.2; RFC 5246 section 7.4.1.2 for the
// layout before TLS 1.3). Input is one handshake message from its header, so TLS over TCP
// (after record reassembly, see handshake.ts) and QUIC CRYPTO frames share it. Fields are
// read in wire order through the bounds-checked reader; GREASE is dropped on the way in.

import type { ParseResult } from '../../fingerprints/types';
import { u16be, u8 } from '../reader';
import {
  DTLS_VERSION_MAJOR, MAX_SESSION_ID_BYTES, MAX_SNI_BYTES, MIN_CLIENT_HELLO_BYTES,
  TLS_EXTENSION, TLS_HANDSHAKE_TYPE, TLS_RANDOM_BYTES, TLS_SNI_HOST_NAME, isGrease,
} from './constants';
import {
  Invalid, binaryString, invalid, parseHelloMessage, readAlpnList, readU16List,
} from './fields';
import type { TlsClientHello } from './types';

/**
 * Parses one ClientHello handshake message; `buf` at its header (type 1, u24 length).
 * gap: DTLS handshake headers carry three more fields (RFC 9147 section 5.2), so a DTLS
 * ClientHello needs its own framing before it can come here.
 * need-more until the whole message is present; `consumed` is header plus body.
 */
export function parseClientHelloMessage(
  buf: Uint8Array, off: number, len: number,
): ParseResult<TlsClientHello> {
  return parseHelloMessage(buf, off, len, { type: TLS_HANDSHAKE_TYPE.CLIENT_HELLO,
    minBytes: MIN_CLIENT_HELLO_BYTES, notIt: 'not_client_hello' }, parseClientHelloBody);
}

/**
 * The highest version a client offers: the largest supported_versions entry when there is
 * one, else legacy_version. DTLS counts down (0xfeff is 1.0, 0xfefc is 1.3), so there the
 * highest is the smallest.
 */
export function highestOfferedVersion(ch: TlsClientHello): number {
  const v = ch.supportedVersions;
  if (v.length === 0) return ch.legacyVersion;
  return v.every((x) => x >> 8 === DTLS_VERSION_MAJOR) ? Math.min(...v) : Math.max(...v);
}

function parseClientHelloBody(b: Uint8Array, p: number, end: number): TlsClientHello | Invalid {
  const ch: TlsClientHello = {
    legacyVersion: u16be(b, p, end), supportedVersions: [], ciphers: [], extensions: [],
    groups: [], pointFormats: [], signatureAlgorithms: [], alpn: [], grease: false,
  };
  p += 2 + TLS_RANDOM_BYTES;

  const sessionIdLength = u8(b, p, end);
  if (sessionIdLength < 0 || sessionIdLength > MAX_SESSION_ID_BYTES) {
    return invalid('bad_session_id');
  }
  p += 1 + sessionIdLength;

  // cipher_suites<2..2^16-2>: an even number of bytes (section 4.1.2).
  const suitesLength = u16be(b, p, end);
  const suitesEnd = p + 2 + suitesLength;
  if (suitesLength < 2 || suitesLength % 2 !== 0 || suitesEnd > end) {
    return invalid('bad_cipher_suites');
  }
  ch.grease = readU16List(b, p + 2, suitesEnd, ch.ciphers) || ch.grease;
  p = suitesEnd;

  // legacy_compression_methods<1..2^8-1>.
  const compressionLength = u8(b, p, end);
  if (compressionLength < 1 || p + 1 + compressionLength > end) {
    return invalid('bad_compression_methods');
  }
  p += 1 + compressionLength;

  // Hellos before TLS 1.0 may end here: no extensions block at all (RFC 5246 s7.4.1.2).
  if (p === end) return ch;
  const extensionsLength = u16be(b, p, end);
  const extensionsEnd = p + 2 + extensionsLength;
  if (extensionsLength < 0 || extensionsEnd > end) return invalid('bad_extensions');
  p += 2;
  while (p < extensionsEnd) {
    const type = u16be(b, p, extensionsEnd);
    const length = u16be(b, p + 2, extensionsEnd);
    const dataEnd = p + 4 + length;
    if (type < 0 || length < 0 || dataEnd > extensionsEnd) return invalid('bad_extensions');
    if (isGrease(type)) ch.grease = true;
    else ch.extensions.push(type);
    readExtension(b, type, p + 4, dataEnd, ch);
    p = dataEnd;
  }
  // Bytes after the extensions block are tolerated, as the endpoints' stacks mostly do.
  return ch;
}

/**
 * Fills the record from the extensions fingerprints use. A malformed inner list is read
 * as far as it is consistent: the extension still counts, as it does for the endpoint.
 */
function readExtension(b: Uint8Array, type: number, p: number, end: number,
  ch: TlsClientHello): void {
  switch (type) {
    case TLS_EXTENSION.SERVER_NAME:
      ch.sni = readServerName(b, p, end);
      break;
    case TLS_EXTENSION.SUPPORTED_GROUPS:
      ch.grease = readU16Vector(b, p, end, ch.groups) || ch.grease;
      break;
    case TLS_EXTENSION.EC_POINT_FORMATS:
      readU8Vector(b, p, end, ch.pointFormats);
      break;
    case TLS_EXTENSION.SIGNATURE_ALGORITHMS:
      ch.grease = readU16Vector(b, p, end, ch.signatureAlgorithms) || ch.grease;
      break;
    case TLS_EXTENSION.ALPN:
      readAlpnList(b, p, end, ch.alpn);
      break;
    case TLS_EXTENSION.SUPPORTED_VERSIONS: {
      // ClientHello form: versions<2..254>, a u8 length (RFC 8446 section 4.2.1).
      const n = u8(b, p, end);
      const stop = Math.min(p + 1 + n, end);
      if (n >= 0) ch.grease = readU16List(b, p + 1, stop, ch.supportedVersions) || ch.grease;
      break;
    }
    default:
      break;
  }
}

/** A u16-length-prefixed list of u16 values; true when GREASE was seen. */
function readU16Vector(b: Uint8Array, p: number, end: number, out: number[]): boolean {
  const n = u16be(b, p, end);
  return n >= 0 && readU16List(b, p + 2, Math.min(p + 2 + n, end), out);
}

/** A u8-length-prefixed list of u8 values. */
function readU8Vector(b: Uint8Array, p: number, end: number, out: number[]): void {
  const n = u8(b, p, end);
  const stop = Math.min(p + 1 + n, end);
  for (let i = p + 1, v = u8(b, i, stop); v >= 0; i++, v = u8(b, i, stop)) out.push(v);
}

/** First host_name of a ServerNameList (RFC 6066 section 3). */
function readServerName(b: Uint8Array, p: number, end: number): string | undefined {
  const listLength = u16be(b, p, end);
  const listEnd = Math.min(p + 2 + listLength, end);
  for (let q = p + 2; q < listEnd;) {
    const nameType = u8(b, q, listEnd);
    const nameLength = u16be(b, q + 1, listEnd);
    if (nameType < 0 || nameLength < 0 || q + 3 + nameLength > listEnd) return undefined;
    if (nameType === TLS_SNI_HOST_NAME) {
      return binaryString(b, q + 3, Math.min(nameLength, MAX_SNI_BYTES), listEnd);
    }
    q += 3 + nameLength;
  }
  return undefined;
}
