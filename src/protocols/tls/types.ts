// Neutral records of a TLS handshake, filled while parsing (GREASE dropped on the way in) so
// that every fingerprint is a pure function of them. Lists keep wire order.

import type { TlsCertificateInfo } from '../../fingerprints/types';

/**
 * Strings taken from the wire (SNI, ALPN) are "binary" strings: one char per byte
 * (charCode 0-255), so the exact bytes stay recoverable for fingerprints.
 */
export interface TlsClientHello {
  /** ClientHello.legacy_version (client_version before TLS 1.3). */
  legacyVersion: number;
  /** supported_versions extension (RFC 8446 section 4.2.1), GREASE removed. */
  supportedVersions: number[];
  /** Cipher suites, wire order, GREASE removed (SCSVs kept). */
  ciphers: number[];
  /** Extension types, wire order, GREASE removed. */
  extensions: number[];
  /** supported_groups, GREASE removed. */
  groups: number[];
  /** ec_point_formats. */
  pointFormats: number[];
  /** signature_algorithms, wire order, GREASE removed. */
  signatureAlgorithms: number[];
  /** First host_name of server_name, when present. */
  sni?: string;
  /** ALPN protocol names offered, wire order. */
  alpn: string[];
  /** True when any GREASE value was seen (RFC 8701): a trait of BoringSSL-based clients. */
  grease: boolean;
}

export interface TlsServerHello {
  /** ServerHello.legacy_version (server_version before TLS 1.3). */
  legacyVersion: number;
  /** supported_versions.selected_version (TLS 1.3 servers), when present. */
  selectedVersion?: number;
  cipher: number;
  /** Extension types, wire order, GREASE removed. */
  extensions: number[];
  /** ALPN protocol the server selected (binary string). */
  alpn?: string;
  /** True for a HelloRetryRequest (RFC 8446 section 4.1.3): a second ClientHello follows. */
  helloRetry?: boolean;
  /** Leaf certificate, TLS 1.2 and below only (TLS 1.3 encrypts it). */
  certificate?: TlsCertificateInfo;
}
