// TLS wire constants used to recognise the first flight and to parse its handshake.

/** TLS ContentType (IANA "TLS ContentType" registry; RFC 8446 section 5.1). */
export const TLS_CONTENT_TYPE = {
  CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23, HEARTBEAT: 24,
} as const;

/** TLS HandshakeType (IANA "TLS HandshakeType" registry; RFC 8446 section 4, RFC 5246 s7.4). */
export const TLS_HANDSHAKE_TYPE = {
  HELLO_REQUEST: 0, CLIENT_HELLO: 1, SERVER_HELLO: 2, NEW_SESSION_TICKET: 4,
  END_OF_EARLY_DATA: 5, ENCRYPTED_EXTENSIONS: 8, CERTIFICATE: 11, SERVER_KEY_EXCHANGE: 12,
  CERTIFICATE_REQUEST: 13, SERVER_HELLO_DONE: 14, CERTIFICATE_VERIFY: 15,
  CLIENT_KEY_EXCHANGE: 16, FINISHED: 20, CERTIFICATE_STATUS: 22,
} as const;

/** ExtensionType values we read (IANA "TLS ExtensionType Values" registry). */
export const TLS_EXTENSION = {
  /** RFC 6066 section 3. */
  SERVER_NAME: 0x0000,
  /** RFC 8422 section 5.1.1 (was elliptic_curves), RFC 8446 section 4.2.7. */
  SUPPORTED_GROUPS: 0x000a,
  /** RFC 8422 section 5.1.2. */
  EC_POINT_FORMATS: 0x000b,
  /** RFC 8446 section 4.2.3. */
  SIGNATURE_ALGORITHMS: 0x000d,
  /** RFC 7301 section 3.1. */
  ALPN: 0x0010,
  /** RFC 8446 section 4.2.1. */
  SUPPORTED_VERSIONS: 0x002b,
  /** RFC 9001 section 8.2. */
  QUIC_TRANSPORT_PARAMETERS: 0x0039,
} as const;

/** ServerNameType host_name, the only one defined (RFC 6066 section 3). */
export const TLS_SNI_HOST_NAME = 0;

/** ProtocolVersion values (RFC 8446 appendix B.1, RFC 6347 and RFC 9147 for DTLS). */
export const TLS_VERSION = {
  SSL_2_0: 0x0002, SSL_3_0: 0x0300, TLS_1_0: 0x0301, TLS_1_1: 0x0302, TLS_1_2: 0x0303,
  TLS_1_3: 0x0304, DTLS_1_0: 0xfeff, DTLS_1_2: 0xfefd, DTLS_1_3: 0xfefc,
} as const;

/** DTLS versions are 0xfexx: one's complement of the TLS version they mirror. */
export const DTLS_VERSION_MAJOR = 0xfe;

/** Display names for the versions above, as the flow record carries them. */
export const TLS_VERSION_NAME: Readonly<Record<number, string>> = {
  [TLS_VERSION.SSL_2_0]: '2.0', [TLS_VERSION.SSL_3_0]: '3.0', [TLS_VERSION.TLS_1_0]: '1.0',
  [TLS_VERSION.TLS_1_1]: '1.1', [TLS_VERSION.TLS_1_2]: '1.2', [TLS_VERSION.TLS_1_3]: '1.3',
  [TLS_VERSION.DTLS_1_0]: 'dtls1.0', [TLS_VERSION.DTLS_1_2]: 'dtls1.2',
  [TLS_VERSION.DTLS_1_3]: 'dtls1.3',
};

/**
 * GREASE values (RFC 8701 section 2): 0x0A0A, 0x1A1A, ... 0xFAFA for cipher suites,
 * extensions, groups, signature algorithms and versions; both bytes equal, low nibble 0xA.
 */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/**
 * ServerHello.random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
 * (RFC 8446 section 4.1.3). Such a ServerHello is followed by a second ClientHello.
 */
export const TLS_HELLO_RETRY_RANDOM = Uint8Array.from([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** Hello random is 32 bytes (RFC 8446 section 4.1.2). */
export const TLS_RANDOM_BYTES = 32;

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

/**
 * Handshake bytes reassembled from the records at the start of a stream: four times the
 * stream buffer (STREAM_MAX_BYTES), so a caller with a larger buffer cannot make us copy
 * without bound; a message past it is refused.
 */
export const TLS_HANDSHAKE_MAX_BYTES = 65536;
/**
 * Bytes searched for the first handshake record when a stream does not open with one:
 * proxy and STARTTLS preambles (HTTP CONNECT with its headers, SOCKS, SMTP/IMAP/IRC
 * STARTTLS exchanges) are well under this.
 */
export const TLS_MAX_PREAMBLE_BYTES = 4096;
/** ALPN names kept from a ClientHello: browsers offer 2-3, JA4 reads only the first. */
export const MAX_ALPN_PROTOCOLS = 16;
/** SNI bytes kept: a DNS name is at most 255 octets (RFC 1035 section 2.3.4). */
export const MAX_SNI_BYTES = 255;
/** Handshake header: type (1), length (3), as the certificate list's u24 lengths too. */
export const TLS_U24_BYTES = 3;

/** Why a TLS handshake parser refused its input: stable names, counted as anomalies. */
export const TLS_PARSE_INVALID = [
  'not_handshake_record', 'sslv2_client_hello', 'bad_record_version', 'record_too_long',
  'not_client_hello', 'not_server_hello', 'hello_too_short', 'hello_too_long',
  'bad_session_id', 'bad_cipher_suites', 'bad_compression_methods', 'bad_extensions',
  'truncated_hello', 'handshake_too_long', 'truncated_handshake',
] as const;
export type TlsParseInvalid = (typeof TLS_PARSE_INVALID)[number];

/** Why the certificate parser refused its input: stable names, counted as anomalies. */
export const TLS_CERT_INVALID = [
  'not_certificate_message', 'empty_certificate_list', 'bad_certificate_lengths', 'bad_der',
  'bad_time', 'bad_serial',
] as const;
export type TlsCertInvalid = (typeof TLS_CERT_INVALID)[number];

/** ASN.1 universal tags used in X.509 (ITU-T X.680 section 8.4; X.690 for DER). */
export const DER_TAG = {
  INTEGER: 0x02, OID: 0x06, UTF8_STRING: 0x0c, NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13, TELETEX_STRING: 0x14, IA5_STRING: 0x16, UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18, VISIBLE_STRING: 0x1a, UNIVERSAL_STRING: 0x1c, BMP_STRING: 0x1e,
  SEQUENCE: 0x30, SET: 0x31,
  /** tbsCertificate's [0] EXPLICIT version (RFC 5280 section 4.1). */
  CONTEXT_0: 0xa0,
} as const;

/**
 * AttributeType short names for distinguished names, as OpenSSL and Zeek print them (the
 * RFC 4514 section 3 set plus the X.520 and PKCS #9 types CAs use); others print dotted.
 */
export const X509_ATTRIBUTE_NAME: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C',
  '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.12': 'title', '2.5.4.15': 'businessCategory', '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name', '2.5.4.42': 'GN', '2.5.4.43': 'initials', '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym', '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID', '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress', '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** RDN attributes read per name: real names hold under ten; bounds the walk. */
export const MAX_NAME_ATTRIBUTES = 64;
/** Serial numbers are at most 20 octets (RFC 5280 section 4.1.2.2); allow non-conforming
 * CAs some slack before calling it garbage. */
export const MAX_SERIAL_BYTES = 64;
/** OID bytes decoded: enough for any attribute type; longer is garbage. */
export const MAX_OID_BYTES = 64;
/** DER length bytes read in long form: 4 covers any certificate (< 4 GB). */
export const MAX_DER_LENGTH_BYTES = 4;
/** UTCTime years below this are 20YY, the rest 19YY (RFC 5280 section 4.1.2.5.1). */
export const UTC_TIME_PIVOT_YEAR = 50;
