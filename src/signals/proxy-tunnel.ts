// A session opened through a proxy handshake: HTTP CONNECT (RFC 9110 section 9.3.6) or SOCKS
// 4/5 (RFC 1928) on the wire, then another protocol's handshake inside the same connection
// (the handshake inspector looks for TLS or SSH behind the proxy reply). That is AN1484's
// "wrapping in HTTP": the proxy carries a session the port baseline never sees. Browsing
// through the organisation's own proxy looks the same, so the proxies listed in
// assets.proxies are exempt.

import { TunnelhoundConfig } from '../config/defaults';
import { CidrSet } from '../config/cidr';
import { Detection } from '../detect/detection';
import { PROTO } from '../protocols/identify';
import { Signal, SignalInput } from './signal';

/** "CONNECT " in hex: the request line of an HTTP tunnel (RFC 9110 section 9.3.6). */
const CONNECT_HEX = '434f4e4e45435420';
/** Proxied sessions on the web's own port are ordinary browsing through an unknown proxy. */
const WEB_TLS_SCORE = 55;
/** SSH through a proxy is a shell or a port forward smuggled past the egress policy. */
const SSH_SCORE = 90;
/** A proxied session whose inner handshake was not seen (opaque or unparsed). */
const OPAQUE_SCORE = 50;

function proxyKind(r: SignalInput['record']): string | null {
  const [c] = r.protoByDir;
  if (c === PROTO.SOCKS4) return 'socks4';
  if (c === PROTO.SOCKS5) return 'socks5';
  if (c === PROTO.HTTP && r.head[0].startsWith(CONNECT_HEX)) return 'http-connect';
  return null;
}

/** The CONNECT target ("host:port") from the kept request head, when it fits there. */
function connectTarget(headHex: string): string | null {
  const text = Buffer.from(headHex, 'hex').toString('latin1');
  const m = /^CONNECT ([^\s]{1,255}) HTTP\/1\.[01]/.exec(text);
  return m === null ? null : m[1];
}

export function createProxyTunnelSignal(cfg: TunnelhoundConfig): Signal {
  const rule = cfg.rules.proxyTunnel;
  const sanctioned = new CidrSet(cfg.assets.proxies);
  return {
    name: 'proxy_tunnel',
    judge({ record: r }: SignalInput): Detection | null {
      if (!rule.enabled || r.ipProto !== 6) return null;
      const kind = proxyKind(r);
      if (kind === null || sanctioned.contains(r.serverIp)) return null;
      // Nothing went through unless the server side talked back past its reply.
      if (r.payloadBytes[1] === 0) return null;
      const fp = r.fingerprints;
      const inner = fp?.ssh !== undefined ? 'ssh' : fp?.tls !== undefined ? 'tls' : null;
      const target = kind === 'http-connect' ? connectTarget(r.head[0]) : null;
      const score = inner === 'ssh' ? SSH_SCORE : inner === 'tls' ? WEB_TLS_SCORE : OPAQUE_SCORE;
      const what = inner === null ? 'an opaque session' : `a ${inner.toUpperCase()} session`;
      return {
        analytic: 'AN1484',
        detection: 'proxy_tunnel',
        name: `${what[0].toUpperCase()}${what.slice(1)} tunnelled through ${kind}`,
        description: `${kind} handshake to ${r.serverIp}:${r.serverPort}` +
          (target !== null ? ` asking for ${target}` : '') +
          `, then ${what} inside the same connection; ${r.serverIp} is not a proxy listed ` +
          'in assets.proxies',
        severity: inner === 'ssh' ? 'high' : inner === 'tls' ? 'low' : 'medium',
        score,
        evidence: [{
          signal: 'proxy_handshake',
          value: target !== null ? `${kind} to ${target}` : kind,
          threshold: 'proxy not in assets.proxies',
          config_key: 'assets.proxies',
          detail: `the client opened with a ${kind} request; inner handshake: ` +
            `${inner ?? 'none recognised'}` +
            (fp?.tls?.sni !== undefined ? ` (SNI ${fp.tls.sni})` : ''),
        }],
      };
    },
  };
}
