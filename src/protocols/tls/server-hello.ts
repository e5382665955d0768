// ServerHello message parser (RFC 8446 section 4.1.3; RFC 5246 section 7.4.1.3 before
// TLS 1.3). Input is one handshake message from its header. A TLS 1.3 server names the
// version it chose in supported_versions and leaves legacy_version at 0x0303.

import type { ParseResult } from '../../fingerprints/types';
import { u16be, u8 } from '../reader';
import {
  MAX_SESSION_ID_BYTES, MIN_SERVER_HELLO_BYTES, TLS_EXTENSION, TLS_HANDSHAKE_TYPE,
  TLS_HELLO_RETRY_RANDOM, TLS_RANDOM_BYTES, isGrease,
} from './constants';
import { Invalid, invalid, parseHelloMessage, readAlpnList } from './fields';
import type { TlsServerHello } from './types';

/**
 * Parses one ServerHello handshake message; `buf` at its header (type 2, u24 length).
 * need-more until the whole message is present; `consumed` is header plus body.
 */
export function parseServerHelloMessage(
  buf: Uint8Array, off: number, len: number,
): ParseResult<TlsServerHello> {
  return parseHelloMessage(buf, off, len, { type: TLS_HANDSHAKE_TYPE.SERVER_HELLO,
    minBytes: MIN_SERVER_HELLO_BYTES, notIt: 'not_server_hello' }, parseServerHelloBody);
}

function parseServerHelloBody(b: Uint8Array, p: number, end: number): TlsServerHello | Invalid {
  const legacyVersion = u16be(b, p, end);
  const helloRetry = isHelloRetryRandom(b, p + 2, end);
  p += 2 + TLS_RANDOM_BYTES;

  const sessionIdLength = u8(b, p, end);
  if (sessionIdLength < 0 || sessionIdLength > MAX_SESSION_ID_BYTES) {
    return invalid('bad_session_id');
  }
  p += 1 + sessionIdLength;
  const cipher = u16be(b, p, end);
  // legacy_compression_method: one byte.
  if (cipher < 0 || u8(b, p + 2, end) < 0) return invalid('truncated_hello');
  p += 3;
  const sh: TlsServerHello = { legacyVersion, cipher, extensions: [] };
  if (helloRetry) sh.helloRetry = true;

  if (p === end) return sh;
  const extensionsLength = u16be(b, p, end);
  const extensionsEnd = p + 2 + extensionsLength;
  if (extensionsLength < 0 || extensionsEnd > end) return invalid('bad_extensions');
  p += 2;
  while (p < extensionsEnd) {
    const type = u16be(b, p, extensionsEnd);
    const length = u16be(b, p + 2, extensionsEnd);
    const dataEnd = p + 4 + length;
    if (type < 0 || length < 0 || dataEnd > extensionsEnd) return invalid('bad_extensions');
    if (!isGrease(type)) sh.extensions.push(type);
    if (type === TLS_EXTENSION.SUPPORTED_VERSIONS) {
      // ServerHello form: one selected_version (RFC 8446 section 4.2.1).
      const v = u16be(b, p + 4, dataEnd);
      if (v >= 0) sh.selectedVersion = v;
    } else if (type === TLS_EXTENSION.ALPN) {
      // The server's list holds exactly one name (RFC 7301 section 3.1).
      const names: string[] = [];
      readAlpnList(b, p + 4, dataEnd, names);
      if (names.length > 0) sh.alpn = names[0];
    }
    p = dataEnd;
  }
  return sh;
}

function isHelloRetryRandom(b: Uint8Array, p: number, end: number): boolean {
  for (let i = 0; i < TLS_RANDOM_BYTES; i++) {
    if (u8(b, p + i, end) !== TLS_HELLO_RETRY_RANDOM[i]) return false;
  }
  return true;
}
