// QUIC long-header Initial packet (RFC 9000 section 17.2.2; v2: RFC 9369 section 3.2).

/** Header form (long) and fixed bits of the first byte (RFC 9000 section 17.2). */
export const QUIC_LONG_HEADER_BITS = 0xc0;
/** Long packet type, bits 4-5 of the first byte. Initial is 0 in v1 and 1 in v2. */
export const QUIC_TYPE_SHIFT = 4;
export const QUIC_TYPE_MASK = 0x03;
export const QUIC_V1_INITIAL_TYPE = 0;
export const QUIC_V2_INITIAL_TYPE = 1;

/**
 * Versions (IANA "QUIC Versions" registry): v1, v2, and IETF drafts 22 to 34, which share
 * v1's Initial layout (one length byte per connection id arrived in draft 22).
 * gap: Google QUIC (Q0xx) uses its own public header and is not identified.
 */
export const QUIC_VERSION = { V1: 0x00000001, V2: 0x6b3343cf } as const;
export const QUIC_DRAFT_FIRST = 0xff000016;
export const QUIC_DRAFT_LAST = 0xff000022;

/** Connection ids are at most 20 bytes (RFC 9000 section 17.2). */
export const QUIC_MAX_CID_BYTES = 20;
/** A client's first Destination Connection ID is at least 8 bytes (section 7.2). */
export const QUIC_MIN_CLIENT_DCID_BYTES = 8;
/** Datagrams carrying a client Initial are padded to at least 1200 bytes (section 14.1). */
export const QUIC_MIN_INITIAL_DATAGRAM = 1200;
