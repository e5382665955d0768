// SOCKS client requests: SOCKS4 (the NEC protocol note "SOCKS: A protocol for TCP proxy
// across firewalls"), SOCKS4a (its extension note), SOCKS5 (RFC 1928).

export const SOCKS4_VERSION = 4;
export const SOCKS5_VERSION = 5;

/** SOCKS4 commands: CONNECT, BIND. */
export const SOCKS4_COMMAND = { CONNECT: 1, BIND: 2 } as const;
/** VN (1), CD (1), DSTPORT (2), DSTIP (4) before the user id. */
export const SOCKS4_FIXED_BYTES = 8;
/** No limit is written down; user ids and 4a host names longer than this are not clients. */
export const MAX_SOCKS4_FIELD_BYTES = 255;
/** SOCKS4a: DSTIP 0.0.0.x with x != 0 means "a host name follows the user id". */
export const SOCKS4A_MAX_IP = 0xff;

/**
 * SOCKS5 authentication methods (IANA "SOCKS Methods" registry): 0x00-0x09 assigned,
 * 0x0a-0x7f unassigned, 0x80-0xfe private, 0xff "no acceptable methods" (never offered).
 */
export const SOCKS5_MAX_ASSIGNED_METHOD = 0x09;
export const SOCKS5_FIRST_PRIVATE_METHOD = 0x80;
export const SOCKS5_NO_ACCEPTABLE_METHOD = 0xff;
