// SSH transport wire constants and limits for the handshake parser (RFC 4253, RFC 4250).

/** Message numbers (RFC 4250 section 4.1.2, "Message Numbers" registry). */
export const SSH_MSG = { KEXINIT: 20 } as const;

/** Protocol versions in the identification string (RFC 4253 sections 4.2 and 5.1). */
export const SSH_VERSION_TEXT = {
  PREFIX: 'SSH-',
  /** A server that also speaks 1.x announces 1.99 and then behaves as 2.0 (section 5.1). */
  COMPAT_1_99: 'SSH-1.99-',
  /** Any other 1.x is the old protocol, which has no KEXINIT. */
  V1: 'SSH-1.',
} as const;

export const ASCII = { LF: 0x0a, CR: 0x0d } as const;

/** Binary packet header: uint32 packet_length, byte padding_length (RFC 4253 section 6). */
export const SSH_PACKET_LENGTH_BYTES = 4;
export const SSH_PADDING_LENGTH_BYTES = 1;
/** The cookie that opens SSH_MSG_KEXINIT (RFC 4253 section 7.1). */
export const SSH_KEXINIT_COOKIE_BYTES = 16;
/** The name-lists of SSH_MSG_KEXINIT, in wire order (RFC 4253 section 7.1). */
export const SSH_KEXINIT_NAME_LISTS = 10;

/**
 * Largest packet, all fields included, that every implementation must accept (RFC 4253
 * section 6.1). A KEXINIT is a few name-lists, about 1.5 KB today even with post-quantum
 * key exchanges, so a longer "KEXINIT" is not one we need to wait for.
 */
export const MAX_SSH_PACKET_BYTES = 35000;

/**
 * Lines a server may send before its identification string (RFC 4253 section 4.2). OpenSSH
 * tolerates 1024 lines of up to 8 KiB each; we buffer this direction until the KEXINIT, so
 * we stop far sooner: real pre-banner text is a short legal notice or nothing.
 */
export const MAX_SSH_PREBANNER_LINES = 64;
export const MAX_SSH_PREBANNER_BYTES = 8192;

/** Why parseSshHandshake gave up, as stable names (the `reason` of an invalid result). */
export const SSH_HANDSHAKE_INVALID = [
  'prebanner_too_long',
  'banner_too_long',
  'banner_control_char',
  'packet_too_long',
  'packet_too_short',
  'bad_padding_length',
  'kexinit_truncated',
  'name_list_overrun',
  'name_list_not_ascii',
] as const;
export type SshHandshakeInvalid = (typeof SSH_HANDSHAKE_INVALID)[number];
