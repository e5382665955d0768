// SSH identification string (RFC 4253 section 4.2):
//   SSH-protoversion-softwareversion SP comments CR LF
// Version 1.99 announces a server that also speaks 1.x (RFC 4253 section 5.1); 1.5 is SSH-1.

export const SSH_VERSION_PREFIXES = ['SSH-2.0-', 'SSH-1.99-', 'SSH-1.5-'] as const;

/** The whole identification line, CR LF included, is at most 255 characters. */
export const MAX_SSH_IDENT_BYTES = 255;
