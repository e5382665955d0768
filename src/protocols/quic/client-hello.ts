// From a QUIC client's reassembled CRYPTO stream to the parsed ClientHello. QUIC carries TLS
// handshake messages without the record layer (RFC 9001 section 4), so the bytes the
// Initial assembler returns are one handshake message and go straight to the TLS parser.

import type { ParseResult } from '../../fingerprints/types';
import { parseClientHelloMessage } from '../tls/client-hello';
import type { TlsClientHello } from '../tls/types';

/**
 * Parses the ClientHello message QuicInitialAssembler.push() returned. need-more cannot
 * happen for a complete message and reads as invalid here.
 */
export function parseQuicClientHello(message: Uint8Array): ParseResult<TlsClientHello> {
  const r = parseClientHelloMessage(message, 0, message.length);
  return r.status === 'need-more' ? { status: 'invalid', reason: 'client_hello_incomplete' } : r;
}

/** The parsed ClientHello, or undefined when the bytes are not a valid one. */
export function quicClientHello(message: Uint8Array): TlsClientHello | undefined {
  const r = parseQuicClientHello(message);
  return r.status === 'ok' ? r.record : undefined;
}
