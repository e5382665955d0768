// Protocol codes stored in typed arrays by the flow table. Append only: codes are persisted
// in flow records and their names appear in the output schema.

export const PROTO = {
  UNKNOWN: 0,
  SSH: 1,
  TLS: 2,
  DNS: 3,
  HTTP: 4,
  RDP: 5,
  SMB: 6,
  SOCKS4: 7,
  SOCKS5: 8,
  /** QUIC long-header Initial (RFC 9000, RFC 9369). */
  QUIC: 9,
  /** HTTP/2 with prior knowledge (cleartext "h2c" connection preface, RFC 9113 s3.4). */
  HTTP2: 10,
} as const;

export type ProtoCode = (typeof PROTO)[keyof typeof PROTO];

/** Lower-case names, index = code. */
export const PROTO_NAMES: readonly string[] = Object.freeze([
  'unknown', 'ssh', 'tls', 'dns', 'http', 'rdp', 'smb', 'socks4', 'socks5', 'quic', 'http2',
]);
