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

// ---- Initial packet protection and the frames a client Initial carries (initial.ts) ----

/** A version's Initial protection: salt and HKDF labels (RFC 9001 section 5). */
export interface QuicInitialProfile {
  /** Long-header packet type of Initial (RFC 9000 section 17.2.2; RFC 9369 section 3.2). */
  initialType: number;
  /** initial_salt as hex. */
  salt: string;
  keyLabel: string;
  ivLabel: string;
  hpLabel: string;
}

/**
 * Initial salts by version. v1: RFC 9001 section 5.2; v2: RFC 9369 section 3.3.1; the IETF
 * drafts each named theirs in section 5.2 of draft-ietf-quic-tls-NN (22; 23 to 28; 29 to
 * 32; 33 and 34 already used the v1 salt).
 */
export const QUIC_INITIAL_SALT = {
  V1: '38762cf7f55934b34d179ae6a4c80cadccbb7f0a',
  V2: '0dede3def700a6db819381be6e269dcbf9bd2ed9',
  DRAFT_29: 'afbfec289993d24c9e9786f19c6111e04390a899',
  DRAFT_23: 'c3eef712c72ebb5a11a7d2432bb46365bef9f502',
  DRAFT_22: '7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a',
} as const;

/** HKDF-Expand-Label labels: v1 RFC 9001 section 5.1 and 5.4; v2 RFC 9369 section 3.3.2. */
export const QUIC_HKDF_LABEL = {
  CLIENT_IN: 'client in',
  V1_KEY: 'quic key', V1_IV: 'quic iv', V1_HP: 'quic hp',
  V2_KEY: 'quicv2 key', V2_IV: 'quicv2 iv', V2_HP: 'quicv2 hp',
} as const;

/** AEAD_AES_128_GCM, the Initial AEAD (RFC 9001 section 5.3): key, nonce, tag sizes. */
export const QUIC_AEAD_KEY_BYTES = 16;
export const QUIC_AEAD_IV_BYTES = 12;
export const QUIC_AEAD_TAG_BYTES = 16;
/** SHA-256 output: the size of every Initial secret (RFC 9001 section 5.2). */
export const QUIC_SECRET_BYTES = 32;
/** Header protection samples 16 bytes, 4 bytes past the packet number start (s5.4.2). */
export const QUIC_HP_SAMPLE_BYTES = 16;
export const QUIC_PN_MAX_BYTES = 4;
/** Low first-byte bits under header protection in a long header (RFC 9001 section 5.4.1). */
export const QUIC_LONG_HP_MASK = 0x0f;

/** Frame types a client Initial may carry (RFC 9000 section 19, table 3 in section 12.4). */
export const QUIC_FRAME = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  CRYPTO: 0x06,
  CONNECTION_CLOSE: 0x1c,
} as const;

/**
 * CRYPTO stream bytes kept per flow: a ClientHello with post-quantum key shares (ML-KEM-768
 * adds 1184 bytes) and every common extension stays well under 4 KB; 16 KB is a full TLS
 * record's worth (RFC 8446 section 5.1) and bounds what a hostile client can make us hold.
 */
export const MAX_CRYPTO_BYTES = 16384;
/**
 * Out-of-order CRYPTO fragments remembered while waiting for the gaps before them. Chrome
 * splits its ClientHello into a handful of frames across 2 or 3 packets; 32 is ample.
 */
export const MAX_CRYPTO_FRAGMENTS = 32;
/** ACK ranges read from one ACK frame: more than a 64 KB datagram could hold (2 bytes each). */
export const MAX_ACK_RANGES = 32768;
/**
 * Coalesced packets walked in one datagram (RFC 9000 section 12.2). A sender has no reason
 * to put more than one packet per type in a datagram (four long types and a short one).
 */
export const MAX_COALESCED_PACKETS = 8;
/** The largest UDP payload (65535 minus the 8-byte UDP header). */
export const MAX_UDP_PAYLOAD = 65527;
