// Fingerprints in ECS: `tls.*` where ECS has a field (tls.client.ja3, tls.server.ja3s,
// tls.client.server_name, tls.server.x509.*...), `tls.client.ja4` beside them, and the rest
// under `tunnelhound.tls.*` / `tunnelhound.ssh.*`. Schema fragments live here too, so the
// field list is defined once.

import { FlowFingerprints } from '../fingerprints/types';

export interface EcsTls {
  version?: string;
  version_protocol?: 'tls';
  cipher?: string;
  /** ALPN the server chose. */
  next_protocol?: string;
  client?: { ja3?: string; ja4?: string; server_name?: string };
  server?: {
    ja3s?: string;
    x509?: {
      subject: { distinguished_name: string };
      issuer: { distinguished_name: string };
      not_before: string;
      not_after: string;
      serial_number: string;
    };
  };
}

export interface TunnelhoundTls {
  /** t = TLS over TCP, q = QUIC. */
  transport: string;
  ja4_r?: string;
  ja3_full?: string;
  ja3s_full?: string;
  alpn_offered?: string[];
  client_version?: string;
  self_signed?: boolean;
}

export interface TunnelhoundSsh {
  client_banner?: string;
  server_banner?: string;
  hassh?: string;
  hassh_algorithms?: string;
  hassh_server?: string;
  hassh_server_algorithms?: string;
  cipher?: string;
}

/** Drop undefined members so the JSON carries only what is known. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function ecsFingerprints(fp: FlowFingerprints | undefined): {
  tls?: EcsTls; thTls?: TunnelhoundTls; thSsh?: TunnelhoundSsh;
} {
  if (fp === undefined) return {};
  const out: { tls?: EcsTls; thTls?: TunnelhoundTls; thSsh?: TunnelhoundSsh } = {};
  const t = fp.tls;
  if (t !== undefined) {
    const cert = t.certificate;
    out.tls = compact<EcsTls>({
      version: t.server_version ?? t.client_version,
      version_protocol: 'tls',
      cipher: t.server_cipher,
      next_protocol: t.server_alpn,
      client: compact({ ja3: t.ja3, ja4: t.ja4, server_name: t.sni }),
      server: compact({
        ja3s: t.ja3s,
        x509: cert && {
          subject: { distinguished_name: cert.subject },
          issuer: { distinguished_name: cert.issuer },
          not_before: cert.notBefore,
          not_after: cert.notAfter,
          serial_number: cert.serial,
        },
      }),
    });
    out.thTls = compact<TunnelhoundTls>({
      transport: t.transport, ja4_r: t.ja4_r, ja3_full: t.ja3_full, ja3s_full: t.ja3s_full,
      alpn_offered: t.alpn, client_version: t.client_version, self_signed: cert?.selfSigned,
    });
  }
  if (fp.ssh !== undefined) out.thSsh = compact<TunnelhoundSsh>({ ...fp.ssh });
  return out;
}

const str = { type: 'string' } as const;
const strict = (properties: object, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, required, properties });
const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' } as const;
/** JA4 a: transport, version, SNI flag, two 2-digit counts, ALPN chars; b and c: 12 hex. */
const JA4_PATTERN = '^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$';

export const ECS_TLS_SCHEMA = strict({
  version: str,
  version_protocol: { const: 'tls' },
  cipher: str,
  next_protocol: str,
  client: strict({
    ja3: hex32,
    ja4: { type: 'string', pattern: JA4_PATTERN },
    server_name: str,
  }),
  server: strict({
    ja3s: hex32,
    x509: strict({
      subject: strict({ distinguished_name: str }, ['distinguished_name']),
      issuer: strict({ distinguished_name: str }, ['distinguished_name']),
      not_before: str, not_after: str, serial_number: str,
    }, ['subject', 'issuer', 'not_before', 'not_after', 'serial_number']),
  }),
});

export const TUNNELHOUND_TLS_SCHEMA = strict({
  transport: { enum: ['t', 'q', 'd'] },
  ja4_r: str, ja3_full: str, ja3s_full: str,
  alpn_offered: { type: 'array', items: str },
  client_version: str,
  self_signed: { type: 'boolean' },
}, ['transport']);

export const TUNNELHOUND_SSH_SCHEMA = strict({
  client_banner: str, server_banner: str, hassh: hex32, hassh_algorithms: str,
  hassh_server: hex32, hassh_server_algorithms: str, cipher: str,
});
