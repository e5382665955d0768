// What the handshake parsers extract per flow and what the fingerprints add, as carried in
// FlowRecord.fingerprints and written to ECS (tls.*, tunnelhound.ssh.*) and the
// `fingerprints` command. Every field is optional: a flow has what its handshake showed.

/** Result of a parser fed the bytes of one direction from the start of the stream. */
export type ParseResult<T> =
  | { status: 'need-more' }
  | { status: 'ok'; record: T; consumed: number }
  | { status: 'invalid'; reason: string };

export interface TlsCertificateInfo {
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  selfSigned: boolean;
  serial: string;
}

export interface TlsFingerprints {
  /** 't' TLS over TCP, 'q' QUIC, 'd' DTLS: the JA4 transport letter. */
  transport: 't' | 'q' | 'd';
  ja4?: string;
  ja4_r?: string;
  ja3?: string;
  /** The decimal field string JA3 hashes. */
  ja3_full?: string;
  ja3s?: string;
  ja3s_full?: string;
  sni?: string;
  alpn?: string[];
  /** Highest version the client offers, e.g. "1.3" (from supported_versions when present). */
  client_version?: string;
  /** Version and cipher the server chose, e.g. "1.3", "TLS_AES_128_GCM_SHA256" or "0x1301". */
  server_version?: string;
  server_cipher?: string;
  server_alpn?: string;
  certificate?: TlsCertificateInfo;
}

export interface SshFingerprints {
  client_banner?: string;
  server_banner?: string;
  hassh?: string;
  /** kex;enc;mac;comp string HASSH hashes. */
  hassh_algorithms?: string;
  hassh_server?: string;
  hassh_server_algorithms?: string;
  /** Cipher both sides agreed on (first client entry the server also offers). */
  cipher?: string;
}

export interface FlowFingerprints {
  tls?: TlsFingerprints;
  ssh?: SshFingerprints;
}
