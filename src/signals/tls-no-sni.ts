// A TLS session to a bare address on a port from the dynamic range, sending no SNI (AN1484).
// RFC 6335 s6 keeps ports 49152-65535 out of the IANA registry for good, so a server
// listening there runs no registered service; a client that reaches it by address (no
// server_name: RFC 6066 s3 forbids SNI for address literals) on such a port is not a browser
// visiting a site but software that carries its own session inside TLS to a host it was
// handed by IP. That is how circumvention proxies keep ahead of name and port blocklists:
// UltraSurf (ndpi__ultrasurf: Chrome-like TLS 1.3 ClientHello, ALPN h2, no SNI, to a public
// address on 50053) is the corpus case. Quiet where the shape is ordinary:
//   - the server is inside networks.internal (bare-address TLS on high ports is everyday
//     inside a data centre: service meshes, app servers, RPC over TLS),
//   - ProtocolBaseline lists tls for the port (the operator expects it),
//   - the session carried less than rules.tlsNoSni.minCarriedBytes past the ClientHello (a
//     scan or an aborted connection tunnels nothing).
// Only TLS over TCP whose ClientHello was seen: without it the flow's direction, and so which
// port is the server's, is a guess.
//
// gap: UltraSurf's flows picked up mid-stream (the same capture's flow whose first packet is
// server->client) are not judged: no ClientHello, so no SNI verdict and no trusted server
// port. Their bytes are TLS 1.3 application_data records (17 03 03, 1434- and 2842-byte
// records from the server, 30-byte records from the client) that the identifier does not
// name without a handshake. nDPI's UltraSurf test matches 8 fixed bytes at the start of that
// flow's first packet; measured here they sit inside a TLS record's ciphertext, so they are
// not a wire pattern and are not used.

import { TunnelhoundConfig } from '../config/defaults';
import { CidrSet } from '../config/cidr';
import { Detection } from '../detect/detection';
import { carriedBytes } from '../detect/rules';
import { PROTO } from '../protocols/identify';
import { Signal, SignalInput } from './signal';

/** RFC 6335 s6: Dynamic Ports 49152-65535 are never assigned by IANA. */
export const DYNAMIC_PORT_MIN = 49152;

export function createTlsNoSniSignal(cfg: TunnelhoundConfig): Signal {
  const rule = cfg.rules.tlsNoSni;
  const internal = new CidrSet(cfg.networks.internal);
  return {
    name: 'tls_no_sni_dynamic_port',
    judge({ record: r }: SignalInput): Detection | null {
      if (!rule.enabled || r.ipProto !== 6 || r.serverPort < DYNAMIC_PORT_MIN) return null;
      const tls = r.fingerprints?.tls;
      if (tls === undefined || tls.transport !== 't' || tls.sni !== undefined) return null;
      if (internal.contains(r.serverIp)) return null;
      if (cfg.ProtocolBaseline[`tcp/${r.serverPort}`]?.includes('tls')) return null;
      // null: the client's first bytes were not a ClientHello record, so direction is unsure.
      const carried = carriedBytes(r, PROTO.TLS);
      if (carried === null || carried < rule.minCarriedBytes) return null;
      const alpn = tls.alpn?.join(',') ?? 'none';
      return {
        analytic: 'AN1484',
        detection: 'tls_no_sni_dynamic_port',
        name: `TLS without SNI to ${r.serverIp}:${r.serverPort}`,
        description: `${r.clientIp} opened TLS to the bare address ${r.serverIp} on ` +
          `tcp/${r.serverPort}, a dynamic port no registered service uses, sent no SNI ` +
          `(ALPN ${alpn}) and carried ${carried} bytes through it`,
        severity: 'medium',
        score: 60,
        evidence: [{
          signal: 'tls_sni_absent',
          value: `tcp/${r.serverPort}`,
          threshold: `port >= ${DYNAMIC_PORT_MIN} without tls in ProtocolBaseline`,
          config_key: 'ProtocolBaseline',
          detail: 'ClientHello without server_name to a port in the RFC 6335 dynamic range; ' +
            `client offered ${tls.client_version ?? 'unknown'} and ALPN ${alpn}`,
        }, {
          signal: 'tls_server_external',
          value: r.serverIp,
          threshold: 'outside networks.internal',
          config_key: 'networks.internal',
          detail: 'the server is not one of this network\'s addresses',
        }, {
          signal: 'carried_bytes',
          value: carried,
          threshold: rule.minCarriedBytes,
          config_key: 'rules.tlsNoSni.minCarriedBytes',
          detail: 'client payload bytes after its ClientHello',
        }],
      };
    },
  };
}
