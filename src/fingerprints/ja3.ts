// JA3 and JA3S (github.com/salesforce/ja3): MD5 of a decimal field string built from a
// parsed ClientHello or ServerHello. Pure functions of the records; GREASE (RFC 8701) is
// already gone from them, as JA3 requires.

import type { TlsClientHello, TlsServerHello } from '../protocols/tls/types';
import { hexDigest } from './digest';

/**
 * SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats: decimal values,
 * '-' inside a field, an empty field when the list is empty. The version is the
 * ClientHello's own version field (legacy_version), not supported_versions.
 */
export function ja3(ch: TlsClientHello): { ja3: string; ja3_full: string } {
  const full = [
    String(ch.legacyVersion), ch.ciphers.join('-'), ch.extensions.join('-'),
    ch.groups.join('-'), ch.pointFormats.join('-'),
  ].join(',');
  return { ja3: md5(full), ja3_full: full };
}

/** SSLVersion,Cipher,Extensions of the ServerHello (legacy_version again). */
export function ja3s(sh: TlsServerHello): { ja3s: string; ja3s_full: string } {
  const full = `${sh.legacyVersion},${sh.cipher},${sh.extensions.join('-')}`;
  return { ja3s: md5(full), ja3s_full: full };
}

function md5(s: string): string {
  return hexDigest('md5', s);
}
