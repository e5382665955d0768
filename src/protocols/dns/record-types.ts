// DNS message parser constants: record types, header bits, limits and anomaly names. The
// shared wire sizes (header, fixed fields, TCP prefix) live in ./constants.ts.

/** Resource record TYPEs the parser decodes or names (IANA "Resource Record (RR) TYPEs"). */
export const DNS_TYPE = {
  A: 1, // RFC 1035 section 3.4.1
  NS: 2, // RFC 1035 section 3.3.11
  CNAME: 5, // RFC 1035 section 3.3.1
  SOA: 6, // RFC 1035 section 3.3.13
  NULL: 10, // RFC 1035 section 3.3.10: any bytes, the iodine tunnel's favourite
  PTR: 12, // RFC 1035 section 3.3.12
  MX: 15, // RFC 1035 section 3.3.9
  TXT: 16, // RFC 1035 section 3.3.14
  AAAA: 28, // RFC 3596 section 2.2
  SRV: 33, // RFC 2782
  OPT: 41, // RFC 6891 section 6.1.2
  SVCB: 64, // RFC 9460 section 2.2
  HTTPS: 65, // RFC 9460 section 9
  ANY: 255, // RFC 1035 section 3.2.3 (QTYPE only)
} as const;

/** Second 16-bit header word (RFC 1035 section 4.1.1; AD and CD from RFC 4035 section 3.2). */
export const DNS_HEADER_BIT = {
  QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080,
  Z: 0x0040, AD: 0x0020, CD: 0x0010,
} as const;

/** Label length byte (RFC 1035 section 4.1.4): top bits 00 label, 11 pointer. */
export const DNS_LABEL_KIND_MASK = 0xc0;
export const DNS_LABEL_POINTER = 0xc0;
export const DNS_POINTER_OFFSET_MASK = 0x3fff;

/** OPT TTL field (RFC 6891 section 6.1.3): extended RCODE, version, DO bit. */
export const DNS_OPT_DO_BIT = 0x8000;

/**
 * Questions parsed per message. RFC 9619 makes QDCOUNT 1 for unicast QUERY, but mDNS
 * queries ask many at once (RFC 6762 section 5.3; an iPhone in the corpus asks 17). Past
 * this the count is garbage or an attack, and since each question is needed to find the
 * next section, parsing stops there.
 */
export const MAX_QUESTIONS = 64;
/**
 * Records parsed per message, all sections together. A 4096-byte EDNS response holds at
 * most 372 of the smallest records, real answers carry tens; zone transfers over TCP can
 * hold more and are cut here with `too_many_records`.
 */
export const MAX_RECORDS = 512;
/**
 * Labels in a name: 127 one-byte labels and the root fill the 255-byte limit of RFC 1035
 * section 2.3.4, so 128 is never legal; checked anyway so the name loop is bounded by a
 * count, not by the byte arithmetic alone.
 */
export const MAX_DNS_LABELS = 128;
/**
 * Compression pointers followed in one name. Compressors point each suffix once, so a
 * name needs at most one hop per label; the rule that every pointer lands before the
 * piece being read already ends any chain, this bounds its length.
 */
export const MAX_DNS_POINTER_HOPS = MAX_DNS_LABELS;
/** TXT character-strings kept per record; tunnels send a handful of 255-byte strings. */
export const MAX_DNS_TXT_STRINGS = 64;
/** EDNS option codes listed per OPT record (cookie, padding, client subnet, ...). */
export const MAX_DNS_OPT_OPTIONS = 16;
/** Bytes of NULL RDATA shown as hex: enough to see a tunnel's framing, not its payload. */
export const DNS_NULL_PREVIEW_BYTES = 16;

/**
 * What the parser noticed, as stable names. A message keeps each at most once; the
 * parser stops at the first anomaly that hides where the next entry starts.
 */
export const DNS_ANOMALIES = [
  /** QDCOUNT/ANCOUNT/... promise entries the message does not hold. */
  'count_mismatch',
  /** Bytes follow the last counted entry. */
  'trailing_bytes',
  /** A question or record cut by the end of the message. */
  'truncated_question',
  'truncated_rr',
  /** Length byte 64 to 191: too long for a label, and not a pointer (RFC 6891 s5). */
  'label_too_long',
  /** More than 255 bytes, or MAX_DNS_LABELS labels, once decompressed. */
  'name_too_long',
  /** A compression pointer at or after itself. */
  'pointer_forward',
  /** A pointer back into the piece of name just read: following it would never end. */
  'name_loop',
  /** More than MAX_DNS_POINTER_HOPS pointers in one name. */
  'pointer_chain_too_long',
  /** QDCOUNT above MAX_QUESTIONS; RR counts above MAX_RECORDS. */
  'too_many_questions',
  'too_many_records',
  /** RDATA that does not match its type's layout or overruns RDLENGTH. */
  'bad_rdata',
  'txt_too_many_strings',
  /** OPT outside the additional section, or more than one (RFC 6891 section 6.1.1). */
  'opt_misplaced',
  /** The reserved Z header bit is set (RFC 1035 section 4.1.1: must be zero). */
  'z_flag_set',
] as const;
export type DnsAnomaly = (typeof DNS_ANOMALIES)[number];

/** Why a UDP payload is not a DNS message at all. */
export type DnsInvalidReason = 'truncated_header';
