// RDP connection start: TPKT (RFC 1006 section 6) carrying an X.224 Connection Request or
// Confirm TPDU (ITU-T X.224 section 13.3/13.4), as profiled by MS-RDPBCGR 2.2.1.1 / 2.2.1.2.

export const TPKT_VERSION = 3;
export const TPKT_HEADER_BYTES = 4;
/** TPKT header (4) + X.224 fixed part of CR/CC: LI, code, DST-REF, SRC-REF, class (7). */
export const X224_CONNECTION_MIN_BYTES = 11;
/**
 * Longest connection PDU we accept: a routing token or cookie, RDP_NEG_REQ (8) and
 * RDP_NEG_CORRELATION_INFO (36) stay well under this.
 */
export const MAX_X224_CONNECTION_BYTES = 2048;

/** X.224 TPDU codes in the high nibble; the low nibble (credit) is 0 in class 0. */
export const X224_TPDU = { CONNECTION_REQUEST: 0xe0, CONNECTION_CONFIRM: 0xd0 } as const;
/** Class 0 with no options (MS-RDPBCGR 2.2.1.1: classOptions = 0). */
export const X224_CLASS_0 = 0x00;

/** First bytes of the optional routingToken and cookie fields (MS-RDPBCGR 2.2.1.1). */
export const RDP_COOKIE_PREFIX = 'Cookie: ';

/** RDP negotiation structures (MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1, 2.2.1.2.2): all 8 bytes. */
export const RDP_NEG_TYPE = { REQUEST: 0x01, RESPONSE: 0x02, FAILURE: 0x03 } as const;
export const RDP_NEG_LENGTH = 8;
