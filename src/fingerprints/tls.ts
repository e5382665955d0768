// The TLS part of a flow's fingerprints: JA4, JA3, JA3S and the handshake facts the flow
// record keeps, from whichever hellos were parsed.

import { highestOfferedVersion } from '../protocols/tls/client-hello';
import { TLS_VERSION_NAME } from '../protocols/tls/constants';
import type { TlsClientHello, TlsServerHello } from '../protocols/tls/types';
import { ja3, ja3s } from './ja3';
import { ja4 } from './ja4';
import type { Ja4Transport } from './ja4';
import type { TlsFingerprints } from './types';

export function tlsFingerprints(
  ch?: TlsClientHello, sh?: TlsServerHello, transport: Ja4Transport = 't',
): TlsFingerprints {
  const out: TlsFingerprints = { transport };
  if (ch !== undefined) {
    Object.assign(out, ja4(ch, transport), ja3(ch));
    if (ch.sni !== undefined) out.sni = ch.sni;
    if (ch.alpn.length > 0) out.alpn = [...ch.alpn];
    out.client_version = versionName(highestOfferedVersion(ch));
  }
  if (sh !== undefined) {
    Object.assign(out, ja3s(sh));
    out.server_version = versionName(sh.selectedVersion ?? sh.legacyVersion);
    out.server_cipher = `0x${sh.cipher.toString(16).padStart(4, '0')}`;
    if (sh.alpn !== undefined) out.server_alpn = sh.alpn;
    if (sh.certificate !== undefined) out.certificate = { ...sh.certificate };
  }
  return out;
}

/** "1.3", "1.2", ... as in TLS_VERSION_NAME; anything else as hex, e.g. "0x7f17". */
function versionName(v: number): string {
  return TLS_VERSION_NAME[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}
