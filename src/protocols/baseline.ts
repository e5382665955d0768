// ProtocolBaseline: which identified protocols belong on a server port, which ports should
// only ever carry cleartext, and how surprising a protocol is where it was seen. `port` is
// always the responder's (server's) port.
//
// Ports and service names follow IANA's "Service Name and Transport Protocol Port Number
// Registry"; rows marked "de facto" are common practice the registry assigns elsewhere.

import { PROTO } from './proto';

const TCP = 6;
const UDP = 17;

export interface PortBaseline {
  readonly transport: 6 | 17;
  readonly port: number;
  /** IANA service name (or the de facto one). */
  readonly service: string;
  /** Protocol codes that belong here; [] = a known service we do not identify from bytes. */
  readonly expect: readonly number[];
  /** Payloads should be readable text or plain binary, never encrypted. */
  readonly cleartext: boolean;
  /** Cleartext that may upgrade in band (STARTTLS and friends): later bytes may be TLS. */
  readonly startTls?: boolean;
  /** A second-choice port for its protocols: seeing them is low surprise (1), not 0. */
  readonly alternate?: boolean;
}

const { SSH, TLS, DNS, HTTP, HTTP2, RDP, SMB, SOCKS4, SOCKS5, QUIC } = PROTO;

export const PORT_BASELINE: readonly PortBaseline[] = [
  // Remote access and file transfer.
  { transport: TCP, port: 21, service: 'ftp', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 22, service: 'ssh', expect: [SSH], cleartext: false },
  { transport: TCP, port: 23, service: 'telnet', expect: [], cleartext: true },
  { transport: TCP, port: 513, service: 'login', expect: [], cleartext: true },
  { transport: TCP, port: 514, service: 'shell', expect: [], cleartext: true },
  { transport: TCP, port: 830, service: 'netconf-ssh', expect: [SSH], cleartext: false },
  { transport: TCP, port: 989, service: 'ftps-data', expect: [TLS], cleartext: false },
  { transport: TCP, port: 990, service: 'ftps', expect: [TLS], cleartext: false },
  { transport: TCP, port: 992, service: 'telnets', expect: [TLS], cleartext: false },
  { transport: TCP, port: 3389, service: 'ms-wbt-server', expect: [RDP], cleartext: false },
  { transport: UDP, port: 3389, service: 'ms-wbt-server', expect: [], cleartext: false },
  { transport: TCP, port: 5900, service: 'rfb', expect: [], cleartext: false },
  // Mail and news: cleartext that upgrades with STARTTLS/STLS (RFC 3207, 2595, 4642).
  { transport: TCP, port: 25, service: 'smtp', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 110, service: 'pop3', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 119, service: 'nntp', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 143, service: 'imap', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 587, service: 'submission', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 465, service: 'submissions', expect: [TLS], cleartext: false },
  { transport: TCP, port: 993, service: 'imaps', expect: [TLS], cleartext: false },
  { transport: TCP, port: 995, service: 'pop3s', expect: [TLS], cleartext: false },
  // IRC: plain on 6667 (IRCv3 STARTTLS exists), TLS on 6697 (RFC 7194).
  { transport: TCP, port: 6667, service: 'ircu', expect: [], cleartext: true, startTls: true },
  { transport: TCP, port: 6697, service: 'ircs-u', expect: [TLS], cleartext: false },
  // Name resolution. NBNS (137) shares DNS's format and identifies as dns.
  { transport: UDP, port: 53, service: 'domain', expect: [DNS], cleartext: true },
  { transport: TCP, port: 53, service: 'domain', expect: [DNS], cleartext: true },
  { transport: TCP, port: 853, service: 'domain-s', expect: [TLS], cleartext: false },
  { transport: UDP, port: 853, service: 'domain-s', expect: [QUIC], cleartext: false },
  { transport: UDP, port: 137, service: 'netbios-ns', expect: [DNS], cleartext: true },
  { transport: UDP, port: 5353, service: 'mdns', expect: [DNS], cleartext: true },
  { transport: UDP, port: 5355, service: 'llmnr', expect: [DNS], cleartext: true },
  { transport: TCP, port: 5355, service: 'llmnr', expect: [DNS], cleartext: true },
  // Web. 80 may carry h2c; 8000/8008/8080/8888 are alternates (8000 and 8888 de facto).
  // 8080 and 3128 are also forward-proxy ports where CONNECT is followed by TLS: the
  // entropy rule should look past a CONNECT before it scores 8080.
  { transport: TCP, port: 80, service: 'http', expect: [HTTP, HTTP2], cleartext: true },
  { transport: TCP, port: 443, service: 'https', expect: [TLS], cleartext: false },
  // DNSCrypt resolvers listen on 443 and hand out their certificate through a plain DNS TXT
  // query there (DNSCrypt v2 protocol), so DNS-format bytes on udp/443 are a known protocol;
  // whether that encrypted-DNS resolver is sanctioned is the DoH signal's question.
  { transport: UDP, port: 443, service: 'https', expect: [QUIC, DNS], cleartext: false },
  { transport: TCP, port: 8000, service: 'http-alt (de facto)', expect: [HTTP, HTTP2],
    cleartext: true, alternate: true },
  { transport: TCP, port: 8008, service: 'http-alt', expect: [HTTP, HTTP2], cleartext: true,
    alternate: true },
  { transport: TCP, port: 8080, service: 'http-alt', expect: [HTTP, HTTP2], cleartext: true,
    alternate: true },
  { transport: TCP, port: 8888, service: 'http-alt (de facto)', expect: [HTTP, HTTP2],
    cleartext: true, alternate: true },
  { transport: TCP, port: 8443, service: 'https-alt (de facto)', expect: [TLS],
    cleartext: false, alternate: true },
  { transport: UDP, port: 8443, service: 'https-alt (de facto)', expect: [QUIC],
    cleartext: false, alternate: true },
  // Proxies. Tor's 9050/9150 are de facto.
  { transport: TCP, port: 1080, service: 'socks', expect: [SOCKS4, SOCKS5], cleartext: false },
  { transport: TCP, port: 3128, service: 'squid (de facto)', expect: [HTTP], cleartext: false,
    alternate: true },
  { transport: TCP, port: 9050, service: 'tor-socks (de facto)', expect: [SOCKS4, SOCKS5],
    cleartext: false },
  { transport: TCP, port: 9150, service: 'tor-browser-socks (de facto)',
    expect: [SOCKS4, SOCKS5], cleartext: false },
  // Windows services. WinRM over HTTP (5985) encrypts its bodies with SPNEGO, so it is not
  // cleartext even though it is HTTP.
  { transport: TCP, port: 88, service: 'kerberos', expect: [], cleartext: false },
  { transport: TCP, port: 135, service: 'epmap', expect: [], cleartext: false },
  { transport: TCP, port: 139, service: 'netbios-ssn', expect: [SMB], cleartext: false },
  { transport: TCP, port: 389, service: 'ldap', expect: [], cleartext: false },
  { transport: TCP, port: 445, service: 'microsoft-ds', expect: [SMB], cleartext: false },
  { transport: TCP, port: 636, service: 'ldaps', expect: [TLS], cleartext: false },
  { transport: TCP, port: 1433, service: 'ms-sql-s', expect: [], cleartext: false },
  { transport: TCP, port: 5985, service: 'wsman', expect: [HTTP], cleartext: false },
  { transport: TCP, port: 5986, service: 'wsmans', expect: [TLS], cleartext: false },
  // Databases negotiate TLS inside their own protocol: not TLS-first, not cleartext-only.
  { transport: TCP, port: 3306, service: 'mysql', expect: [], cleartext: false },
  { transport: TCP, port: 5432, service: 'postgresql', expect: [], cleartext: false },
  // ESXi management: vmware-authd (de facto; IANA lists 902 as ideafarm-door).
  { transport: TCP, port: 902, service: 'vmware-authd (de facto)', expect: [], cleartext: false },
  // Signalling, discovery and logging in the clear.
  { transport: UDP, port: 514, service: 'syslog', expect: [], cleartext: true },
  { transport: UDP, port: 1900, service: 'ssdp', expect: [], cleartext: true },
  { transport: UDP, port: 5060, service: 'sip', expect: [], cleartext: true },
  { transport: TCP, port: 5060, service: 'sip', expect: [], cleartext: true },
  { transport: TCP, port: 5061, service: 'sips', expect: [TLS], cleartext: false },
  // VPNs and time: known services whose bytes we do not identify.
  { transport: UDP, port: 123, service: 'ntp', expect: [], cleartext: false },
  { transport: UDP, port: 500, service: 'isakmp', expect: [], cleartext: false },
  { transport: UDP, port: 4500, service: 'ipsec-nat-t', expect: [], cleartext: false },
  { transport: UDP, port: 1194, service: 'openvpn', expect: [], cleartext: false },
  { transport: TCP, port: 1194, service: 'openvpn', expect: [], cleartext: false },
  { transport: UDP, port: 51820, service: 'wireguard (de facto)', expect: [], cleartext: false },
];

/**
 * Ports where admins commonly move sshd (2222 and its variants): SSH there is low surprise,
 * not the medium of an arbitrary high port.
 */
export const SSH_ALTERNATE_PORTS: ReadonlySet<number> = new Set([
  222, 2022, 2222, 8022, 10022, 22222,
]);

const byKey = new Map<number, PortBaseline>(
  PORT_BASELINE.map((row) => [key(row.transport, row.port), row]),
);

function key(transport: number, port: number): number {
  return transport * 65536 + port;
}

function lookup(transport: number, port: number): PortBaseline | undefined {
  return byKey.get(key(transport, port));
}

/** Protocols expected on a server port; undefined = no baseline for this port. */
export function expectedProtocols(transport: number, port: number): readonly number[] | undefined {
  return lookup(transport, port)?.expect;
}

/**
 * Ports whose payloads should be readable: tcp 21, 23, 25, 53, 80, 110, 119, 143, 513, 514,
 * 587, 5060, 5355, 6667, 8000, 8008, 8080, 8888; udp 53, 137, 514, 1900, 5060, 5353, 5355.
 * See allowsStartTls for the ones where encrypted bytes may legitimately follow.
 */
export function isCleartextPort(transport: number, port: number): boolean {
  return lookup(transport, port)?.cleartext ?? false;
}

/** Cleartext ports with an in-band TLS upgrade (ftp, smtp, pop3, nntp, imap, submission, irc). */
export function allowsStartTls(transport: number, port: number): boolean {
  return lookup(transport, port)?.startTls ?? false;
}

/**
 * How surprising protocol `proto` is on server port `port`: 0 expected, 1 low, 2 medium,
 * 3 high. UNKNOWN is never surprising here (the entropy rule covers unidentified bytes).
 */
export function surprise(transport: number, port: number, proto: number): 0 | 1 | 2 | 3 {
  if (proto === PROTO.UNKNOWN) return 0;
  const row = lookup(transport, port);
  if (row !== undefined && row.expect.includes(proto)) return row.alternate ? 1 : 0;
  const onSshOrDnsPort = row !== undefined &&
    (row.expect.includes(SSH) || row.expect.includes(DNS));
  switch (proto) {
    case SSH:
      // 2222 and friends are admin habit, and an sshd on a port no service claims is a
      // moved daemon, not a disguise (the shape analytics judge what it carries): low.
      // SSH on another service's port (443, 80, 53, 8080, 3389...) is the classic
      // firewall bypass.
      if (SSH_ALTERNATE_PORTS.has(port) || row === undefined) return 1;
      return 3;
    case RDP:
    case SMB:
      // Both have one home each (3389; 445/139); seen elsewhere they are being forwarded.
      return 3;
    case TLS:
      // TLS is everywhere: on an unlisted port it says nothing. On SSH's or DNS's port it is
      // a disguise; on a cleartext port it breaks the port's contract; elsewhere it is odd.
      if (row === undefined) return 0;
      if (onSshOrDnsPort) return 3;
      return row.cleartext ? 2 : 1;
    case HTTP:
    case HTTP2:
      // Development servers speak HTTP on any high port, and HTTP moved onto another
      // service's port hides nothing: every byte is readable, so it is a misconfiguration
      // rather than a disguise (peers' "known protocol on non-standard port" noise). What
      // HTTP carries (CONNECT, upgrades) is judged by the proxy signal instead.
      return row === undefined ? 0 : 1;
    case DNS:
      // Resolvers, mDNS, LLMNR and NBNS are all in the table: DNS anywhere else is odd.
      return 2;
    case SOCKS4:
    case SOCKS5:
      // A proxy handshake on some high port is a tool (ssh -D, chisel); on another
      // service's port it is hiding.
      return row !== undefined ? 3 : 2;
    case QUIC:
      // QUIC off 443 happens (alt-svc can name any port) but DNS's port would be a disguise.
      return onSshOrDnsPort ? 3 : 1;
    default:
      return 0;
  }
}
