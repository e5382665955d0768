// TLS wire constants used to recognise the first flight.

/** TLS ContentType (IANA "TLS ContentType" registry; RFC 8446 section 5.1). */
export const TLS_CONTENT_TYPE = { HANDSHAKE: 22 } as const;

/** TLS HandshakeType (IANA "TLS HandshakeType" registry; RFC 8446 section 4). */
export const TLS_HANDSHAKE_TYPE = { CLIENT_HELLO: 1, SERVER_HELLO: 2 } as const;

/** ProtocolVersion major byte (SSL 3.0 to TLS 1.3 are 3.0 to 3.4) and highest minor. */
export const TLS_VERSION_MAJOR = 3;
export const TLS_VERSION_MAX_MINOR = 4;

/** TLS record header: type (1), version (2), length (2). */
export const TLS_RECORD_HEADER_BYTES = 5;
/** Handshake header: type (1), length (3). */
export const TLS_HANDSHAKE_HEADER_BYTES = 4;
/** Record length limit: 2^14 plaintext plus 2048 expansion (RFC 8446 section 5.2). */
export const MAX_TLS_RECORD_BYTES = 16384 + 2048;

/**
 * Smallest hello bodies. ClientHello: version 2, random 32, session id length 1, cipher
 * suites length 2 + one suite 2, compression length 1 + one method 1 = 41. ServerHello:
 * version 2, random 32, session id length 1, suite 2, compression 1 = 38 (RFC 5246 s7.4.1).
 */
export const MIN_CLIENT_HELLO_BYTES = 41;
export const MIN_SERVER_HELLO_BYTES = 38;
/**
 * Largest hello body we accept: session id 32, 2^16 - 2 of suites, 255 compression methods,
 * 2^16 - 1 of extensions, plus the fixed fields, rounded up to 2^17.
 */
export const MAX_HELLO_BYTES = 131072;
/** legacy_session_id is at most 32 bytes (RFC 8446 section 4.1.2). */
export const MAX_SESSION_ID_BYTES = 32;

/** SSLv2-compatible CLIENT-HELLO (RFC 6101 appendix E.2, RFC 5246 appendix E.2). */
export const SSL2_MSG_CLIENT_HELLO = 1;
export const SSL2_VERSION = 0x0002;
/** msg_type (1), version (2), cipher_spec_length (2), session_id_length (2), challenge (2). */
export const SSL2_CLIENT_HELLO_FIXED_BYTES = 9;
/** Each SSLv2 cipher spec is 3 bytes. */
export const SSL2_CIPHER_SPEC_BYTES = 3;
/** The session id is empty or 16 bytes; the challenge 16 to 32 bytes. */
export const SSL2_SESSION_ID_BYTES = 16;
export const SSL2_MIN_CHALLENGE_BYTES = 16;
export const SSL2_MAX_CHALLENGE_BYTES = 32;
