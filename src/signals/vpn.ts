// VPN-style tooling (AN1485): a flow whose first bytes are a VPN protocol's opening, Tor
// circuits, and TLS to a VPN client's documented control API (the DTLS and SoftEther
// parsers live in vpn-dtls.ts and vpn-softether.ts). Identification reads only the first
// payload bytes each direction kept in the flow record (head), so it costs nothing on the
// packet path; both directions must agree where the protocol has a reply, so one stray
// datagram does not make a VPN.

import { TunnelhoundConfig } from '../config/defaults';
import { CidrSet } from '../config/cidr';
import { Detection } from '../detect/detection';
import { PROTO } from '../protocols/identify';
import { Evidence } from '../output/ecs-schema';
import { Signal, SignalInput } from './signal';
import { dtlsHandshake } from './vpn-dtls';
import { softEtherNatT } from './vpn-softether';

type Head = Buffer;
type VpnRule = TunnelhoundConfig['rules']['vpn'];

interface VpnMatch {
  protocol: string;
  detail: string;
  /** Further evidence beyond the protocol itself (thresholds the match had to pass). */
  extra?: Evidence[];
}

const UDP = 17;
const TCP = 6;

/**
 * WireGuard (whitepaper section 5.4): a message type 1-4 followed by three reserved zero
 * bytes. Initiation (1) is answered by response (2); transport data (4) flows both ways.
 */
function wireguard(c: Head, s: Head): VpnMatch | null {
  const type = (h: Head) => (h.length >= 4 && h[1] === 0 && h[2] === 0 && h[3] === 0 &&
    h[0] >= 1 && h[0] <= 4 ? h[0] : 0);
  const tc = type(c);
  const ts = type(s);
  const pair = (tc === 1 && ts === 2) || (tc === 2 && ts === 1) || (tc === 4 && ts === 4) ||
    (tc === 1 && ts === 4) || (tc === 4 && ts === 1);
  return pair ? { protocol: 'wireguard', detail: `message types ${tc}/${ts}` } : null;
}

/**
 * WireGuard with its reserved bytes filled: clients that carry a routing id there (WARP
 * profiles in wgcf, sing-box, Xray set "reserved") fail the zero test above. The layout
 * still holds (whitepaper 5.4.2, 5.4.3): the initiation, type 1, has its sender index at
 * bytes 4-7, and the response, type 2, echoes it as receiver index at bytes 8-11 after its
 * own. A random 32-bit index matching by chance is one in four billion, so the echo proves
 * both directions belong to one WireGuard handshake.
 *
 * gap: Cloudflare's own WARP client (ndpi__cloudflare-warp.pcap, udp/2408) sends type bytes
 * 0xc1/0xc2 with a 194-byte initiation and a 778-byte response (WireGuard: 148 and 92), and
 * its response's bytes 8-11 (01908300) are not the initiation's bytes 4-7 (00908301): the
 * handshake layout is Cloudflare's own and unpublished. Only the later data messages (0xc4,
 * receiver index, counter 1, 2, 3...) are WireGuard-shaped, and they lie past the 64 head
 * bytes. What is left, a first byte pair on port 2408, is a port match; the client's
 * documented control API (rules.vpn.controlHosts) is what names WARP here.
 */
function wireguardReserved(c: Head, s: Head): VpnMatch | null {
  if (c.length < 8 || s.length < 12 || c[0] !== 1 || s[0] !== 2) return null;
  const sender = c.readUInt32LE(4);
  if (sender === 0 || s.readUInt32LE(4) === 0 || s.readUInt32LE(8) !== sender) return null;
  return {
    protocol: 'wireguard',
    detail: 'handshake with non-zero reserved bytes; the response echoes the initiation\'s ' +
      'sender index',
  };
}

/**
 * An SSL VPN's DTLS data channel. Cisco's pre-RFC DTLS (0x0100) is spoken only by
 * AnyConnect-compatible gateways, on any port. Standard DTLS is also WebRTC's media key
 * exchange, so it counts only on the ports SSL VPNs share with their TLS control session
 * (rules.vpn.dtlsPorts; WebRTC uses ephemeral ports and opens with STUN, not DTLS), and only
 * when both directions went on past a handshake (rules.vpn.dtlsMinPackets), as a tunnel does.
 */
function sslVpnDtls(r: SignalInput['record'], c: Head, s: Head, rule: VpnRule): VpnMatch | null {
  if (r.protoByDir[0] === PROTO.QUIC || r.protoByDir[1] === PROTO.QUIC) return null;
  const ch = dtlsHandshake(c, s);
  if (ch === null) return null;
  const onVpnPort = rule.dtlsPorts.includes(r.serverPort);
  if (ch.family === 'standard' && !onVpnPort) return null;
  const packets = Math.min(r.packets[0], r.packets[1]);
  if (packets < rule.dtlsMinPackets) return null;
  const extra: Evidence[] = [{
    signal: 'dtls_packets', value: packets, threshold: rule.dtlsMinPackets,
    config_key: 'rules.vpn.dtlsMinPackets',
    detail: 'datagrams in the quieter direction: the channel carried data past its handshake',
  }];
  if (ch.family === 'standard') {
    extra.push({
      signal: 'dtls_port', value: r.serverPort, threshold: rule.dtlsPorts.join(','),
      config_key: 'rules.vpn.dtlsPorts',
      detail: 'DTLS on a port SSL VPNs share with their TLS control session',
    });
  }
  return { protocol: ch.family === 'cisco' ? 'anyconnect-dtls' : 'ssl-vpn-dtls',
    detail: ch.detail, extra };
}

function softether(c: Head, s: Head): VpnMatch | null {
  const detail = softEtherNatT(c, s);
  return detail === null ? null : { protocol: 'softether', detail };
}

/** Tailscale's peer discovery ("disco") frames start with "TS" and U+1F4AC. */
const DISCO_MAGIC = Buffer.from('5453f09f92ac', 'hex');

function tailscale(c: Head, s: Head): VpnMatch | null {
  return c.subarray(0, 6).equals(DISCO_MAGIC) && s.subarray(0, 6).equals(DISCO_MAGIC)
    ? { protocol: 'tailscale', detail: 'disco frames both ways' } : null;
}

// OpenVPN opcodes (high 5 bits of the first byte after the TCP length prefix).
const P_CONTROL_HARD_RESET_CLIENT_V1 = 1;
const P_CONTROL_HARD_RESET_SERVER_V1 = 2;
const P_CONTROL_HARD_RESET_CLIENT_V2 = 7;
const P_CONTROL_HARD_RESET_SERVER_V2 = 8;
const P_CONTROL_HARD_RESET_CLIENT_V3 = 10;

/** OpenVPN's reset handshake: client hard reset answered by a server hard reset. */
function openvpn(proto: number, c: Head, s: Head): VpnMatch | null {
  const at = proto === TCP ? 2 : 0;
  if (c.length < at + 9 || s.length < at + 9) return null;
  if (proto === TCP && (c.readUInt16BE(0) < 14 || s.readUInt16BE(0) < 14)) return null;
  const oc = c[at] >> 3;
  const os = s[at] >> 3;
  const client = oc === P_CONTROL_HARD_RESET_CLIENT_V1 || oc === P_CONTROL_HARD_RESET_CLIENT_V2 ||
    oc === P_CONTROL_HARD_RESET_CLIENT_V3;
  const server = os === P_CONTROL_HARD_RESET_SERVER_V1 || os === P_CONTROL_HARD_RESET_SERVER_V2;
  return client && server && (c[at] & 7) === 0
    ? { protocol: 'openvpn', detail: `hard reset opcodes ${oc}/${os} over ${proto === TCP ? 'tcp' : 'udp'}` }
    : null;
}

/**
 * IKE (RFC 7296 section 3.1; RFC 2408 for v1): initiator SPI set, responder SPI zero in the
 * first message, version 2.0 or 1.0, exchange IKE_SA_INIT (34) or main/aggressive (2, 4). On
 * udp/4500 a four-byte zero non-ESP marker comes first (RFC 3948 section 2.2).
 */
function ike(port: number, c: Head): VpnMatch | null {
  const at = port === 4500 ? 4 : 0;
  if (c.length < at + 19) return null;
  if (at === 4 && c.readUInt32BE(0) !== 0) return null;
  const responderSpiZero = c.readUInt32BE(at + 8) === 0 && c.readUInt32BE(at + 12) === 0;
  const version = c[at + 17];
  const exchange = c[at + 18];
  const ok = responderSpiZero && c.readUInt32BE(at) !== 0 &&
    ((version === 0x20 && exchange === 34) || (version === 0x10 && (exchange === 2 ||
      exchange === 4)));
  return ok ? { protocol: version === 0x20 ? 'ikev2' : 'ikev1', detail: 'IKE SA setup' } : null;
}

/** tinc's meta protocol opens with its ID request in text: "0 <node name> 17[.minor]\n". */
const TINC_ID = /^0 [A-Za-z0-9_]{1,64} 17(\.\d+)?\n/;

function tinc(c: Head, s: Head): VpnMatch | null {
  return TINC_ID.test(c.toString('latin1')) && TINC_ID.test(s.toString('latin1'))
    ? { protocol: 'tinc', detail: 'ID requests both ways' } : null;
}

export function identifyVpn(r: SignalInput['record'], rule: VpnRule): VpnMatch | null {
  // Both directions already named as one known protocol (DNS, HTTP, TLS...): none of the
  // handshakes below reads as one of those both ways, and decoding every flow's head
  // costs more than the rest of this signal on short-flow traffic.
  if (r.protoByDir[0] !== PROTO.UNKNOWN && r.protoByDir[0] === r.protoByDir[1]) return null;
  const c = Buffer.from(r.head[0], 'hex');
  const s = Buffer.from(r.head[1], 'hex');
  if (c.length === 0 || s.length === 0) return null;
  if (r.ipProto === UDP) {
    return wireguard(c, s) ?? tailscale(c, s) ?? openvpn(UDP, c, s) ??
      ((r.serverPort === 500 || r.serverPort === 4500) ? ike(r.serverPort, c) : null) ??
      wireguardReserved(c, s) ?? sslVpnDtls(r, c, s, rule) ?? softether(c, s);
  }
  if (r.ipProto === TCP) return openvpn(TCP, c, s) ?? tinc(c, s);
  return null;
}

/**
 * Tor relays present TLS with made-up host names: "www." + a random base32 label + ".com" or
 * ".net" (tor's tortls.c picks them to look like web traffic). Real sites' labels are words;
 * these mix letters with the digits 2-7 and never a word break.
 */
const TOR_SNI = /^www\.([a-z2-7]{4,25})\.(com|net)$/;

export function looksLikeTor(sni: string | undefined): boolean {
  if (sni === undefined) return false;
  const m = TOR_SNI.exec(sni);
  return m !== null && /[2-7]/.test(m[1]) && /[a-z]/.test(m[1]);
}

/**
 * TLS to a VPN client's control API, answered by the server: the host names a vendor
 * documents for its client's registration and settings traffic outside the tunnel
 * (rules.vpn.controlHosts; Cloudflare lists api.cloudflareclient.com and
 * zero-trust-client.cloudflareclient.com for WARP in its firewall guide).
 */
function controlApiHost(r: SignalInput['record'], hosts: Set<string>): string | null {
  const sni = r.fingerprints?.tls?.sni?.toLowerCase();
  if (sni === undefined || !hosts.has(sni)) return null;
  return r.protoByDir[0] === PROTO.TLS && r.protoByDir[1] === PROTO.TLS ? sni : null;
}

export function createVpnSignal(cfg: TunnelhoundConfig): Signal {
  const rule = cfg.rules.vpn;
  const sanctioned = new CidrSet(rule.allowedServers);
  const controlHosts = new Set(rule.controlHosts.map((h) => h.toLowerCase()));
  return {
    name: 'vpn_tunnel',
    judge({ record: r }: SignalInput): Detection | null {
      if (!rule.enabled || sanctioned.contains(r.serverIp)) return null;
      const sni = r.fingerprints?.tls?.sni;
      if (looksLikeTor(sni)) {
        return {
          analytic: 'AN1485', detection: 'tor_circuit', name: 'Tor relay connection',
          description: `TLS to ${r.serverIp}:${r.serverPort} with the random host name Tor ` +
            'relays use', severity: 'high', score: 80,
          evidence: [{
            signal: 'tls_sni', value: sni!, threshold: 'www.<random base32>.com|net',
            config_key: 'rules.vpn.allowedServers',
            detail: 'a made-up www name mixing letters and digits 2-7, as Tor generates',
          }],
        };
      }
      const api = controlApiHost(r, controlHosts);
      if (api !== null) {
        return {
          analytic: 'AN1485', detection: 'vpn_client_api', name: 'VPN client control API',
          description: `TLS from ${r.clientIp} to ${api} (${r.serverIp}:${r.serverPort}), ` +
            'the API a VPN client registers and fetches its tunnel settings through',
          severity: 'low', score: 40,
          evidence: [{
            signal: 'tls_sni', value: api, threshold: 'listed VPN control host',
            config_key: 'rules.vpn.controlHosts',
            detail: 'a host name the VPN vendor documents for its client\'s control traffic',
          }],
        };
      }
      const m = identifyVpn(r, rule);
      if (m === null) return null;
      return {
        analytic: 'AN1485', detection: 'vpn_tunnel', name: `${m.protocol} VPN tunnel`,
        description: `${m.protocol} between ${r.clientIp} and ${r.serverIp}:${r.serverPort}, ` +
          'a VPN server not listed in rules.vpn.allowedServers',
        severity: 'medium', score: 65,
        evidence: [{
          signal: 'vpn_protocol', value: m.protocol, threshold: 'server not sanctioned',
          config_key: 'rules.vpn.allowedServers', detail: m.detail,
        }, ...(m.extra ?? [])],
      };
    },
  };
}
