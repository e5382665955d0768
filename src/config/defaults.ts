// Every tunable the analytics use, with its default and why. The seed's tunable elements
// (DET0538: AllowedTools, DataAsymmetryThreshold, TimeWindow, ForwardingFlags,
// ProtocolBaseline, ExpectedDoHResolvers, PayloadEntropyThreshold, ESXiServiceProfiles) keep
// their names so a detection engineer finds them from the strategy text. The YAML file a user
// writes has exactly this shape; src/config/schema.ts validates it.

import { DEFAULT_FLOW_TABLE, FlowTableOptions } from '../flow/flow-table';

export type Severity = 'low' | 'medium' | 'high';

/** Every rule can be switched off, and its severity pinned instead of computed. */
export interface RuleSwitch {
  enabled: boolean;
  /** When set, every alert of the rule carries this severity. */
  severity?: Severity;
}

/** One entry of the allow-list; every field given must match (AND), at least one is given. */
export interface AllowedTool {
  /** Full path, compared case-insensitively on Windows-style paths. */
  executable?: string;
  /** Process name (basename), case-insensitive. */
  name?: string;
  /** SHA-256 of the executable, hex. */
  sha256?: string;
  user?: string;
  /** suppress: no alert; lower: severity one step down and score halved. */
  action: 'suppress' | 'lower';
}

/** A service an ESXi management interface is expected to offer or to use. */
export interface EsxiService {
  transport: 'tcp' | 'udp';
  port: number;
  /** CIDRs of the peers allowed; absent = any peer. */
  peers?: string[];
}

export interface EsxiServiceProfile {
  /** Services others may open on the host (host is the server). */
  inbound: EsxiService[];
  /** Flows the host itself may open (host is the client). */
  outbound: EsxiService[];
}

export interface TunnelhoundConfig {
  flowTable: FlowTableOptions;
  /** Tools admins use on purpose (AN1483); matched against the endpoint feed's process. */
  AllowedTools: AllowedTool[];
  /**
   * Ratio of the larger to the smaller payload direction at which a flow counts as a bulk
   * carrier (AN1483). Interactive shells stay near 1-3; a forwarded download is far above.
   */
  DataAsymmetryThreshold: number;
  /** Seconds within which endpoint events join flows, and repeats per host pair are folded. */
  TimeWindow: number;
  /**
   * Command-line flags and settings that mean port forwarding, per program name (AN1484).
   * `sshd` entries are sshd_config settings ("AllowTcpForwarding yes"), never sshd's own
   * command-line switches (its -D and -R mean something else).
   */
  ForwardingFlags: Record<string, string[]>;
  /**
   * Overrides of the built-in port baseline: "tcp/8443" -> protocols expected there. A
   * protocol listed here never raises a mismatch on that port; one not listed does.
   */
  ProtocolBaseline: Record<string, string[]>;
  /** DoH resolvers the environment uses on purpose: IPs, CIDRs or SNI host names (AN1485). */
  ExpectedDoHResolvers: string[];
  /**
   * Corrected payload entropy in bits/byte above which bytes on a cleartext port count as
   * encrypted or compressed (AN1484/AN1485). Text sits near 4.5-5.5, ciphertext near 8.
   */
  PayloadEntropyThreshold: number;
  /** Allowed services per ESXi profile name; assets.esxiManagement picks the profile. */
  ESXiServiceProfiles: Record<string, EsxiServiceProfile>;
  networks: {
    /** CIDRs of the monitored organisation; the rest is "external". */
    internal: string[];
  };
  assets: {
    /** ESXi management interfaces and the profile each must keep to. */
    esxiManagement: { address: string; profile: string }[];
    /** The resolvers hosts are meant to use (plain DNS to them is normal). */
    dnsResolvers: string[];
    /**
     * The forward proxies users are meant to go through: HTTP CONNECT or SOCKS to them
     * carrying TLS is ordinary browsing, not a tunnel.
     */
    proxies: string[];
  };
  /** Folding of repeated alerts between the same two hosts within TimeWindow. */
  suppression: {
    perHostPair: boolean;
  };
  endpoint: {
    /** Largest clock difference between sensor and agent tolerated by the join, seconds. */
    clockSkewSec: number;
  };
  rules: {
    protocolPortMismatch: RuleSwitch & {
      /** Least surprise (1 low, 2 medium, 3 high) that raises an alert. */
      minSurprise: 1 | 2 | 3;
      /**
       * SSH and TLS must carry at least this many payload bytes beyond their handshake
       * before a port mismatch alerts: a scan or failed login carries nothing.
       */
      minCarriedBytes: number;
    };
    cleartextEntropy: RuleSwitch & {
      /** Fewest payload bytes in a direction before its entropy is judged at all. */
      minSampleBytes: number;
    };
    sshAsymmetry: RuleSwitch & {
      /** A flow must have lasted this long (seconds) to count as long-lived. */
      minDurationSec: number;
      /** ... and carried at least this many payload bytes in all. */
      minPayloadBytes: number;
    };
    sshSessionShape: RuleSwitch & {
      /** Encrypted payload segments (both ways) before a session's shape is judged. */
      minPackets: number;
      /** Keystrokes the peer echoed that make a session interactive (a person typing). */
      minEchoes: number;
      /** Client-started request/answer exchanges that make local or dynamic forwarding. */
      minForwardExchanges: number;
      /** ... when the session also has file-copy bulk runs (else it reads as scp/sftp). */
      minExchangesOverBulk: number;
      /** Data bytes in server-started exchanges that make reverse forwarding (-R). */
      minReverseBytes: number;
    };
    doh: RuleSwitch & {
      /**
       * Largest application_data record (bytes, after the handshake records) still counted
       * as DNS-sized when judging a flow's shape: a DNS message plus HTTP/2 framing.
       */
      maxDnsRecordBytes: number;
      /** Fewest DNS-sized request/response record pairs for a DoH-like shape. */
      minShapePairs: number;
    };
    dnsTunnel: RuleSwitch & {
      /** Distinct query names under one registered domain from one client in TimeWindow. */
      minDistinctNames: number;
      /** ... whose part under the registered domain averages at least this many bytes. */
      minMeanSubdomainBytes: number;
      /** One name alone: a subdomain part this long (bytes) ... */
      minEncodedSubdomainBytes: number;
      /** ... with at least this Shannon entropy in bits/byte is encoded data. */
      minEntropy: number;
      /** Registered domains never judged (reverse zones have long hex-like names). */
      ignoreDomains: string[];
    };
    icmpTunnel: RuleSwitch;
    relay: RuleSwitch;
    esxiProfile: RuleSwitch;
    volumeOutlier: RuleSwitch;
    proxyTunnel: RuleSwitch;
    vpn: RuleSwitch & {
      /** The organisation's own VPN concentrators (CIDRs): tunnels to them are expected. */
      allowedServers: string[];
    };
    encapsulation: RuleSwitch & {
      /**
       * Carriers that are part of this network's own fabric (data-centre overlays such as
       * vxlan or geneve, erspan mirroring): flows inside them raise nothing.
       */
      allowed: string[];
    };
  };
}

export const DEFAULT_CONFIG: TunnelhoundConfig = {
  flowTable: DEFAULT_FLOW_TABLE,
  AllowedTools: [],
  DataAsymmetryThreshold: 10,
  TimeWindow: 300,
  ForwardingFlags: {
    ssh: ['-L', '-R', '-D', '-w'],
    plink: ['-L', '-R', '-D'],
    netsh: ['interface portproxy', 'i p a'],
    socat: ['TCP-LISTEN', 'TCP4-LISTEN', 'TCP6-LISTEN', 'UDP-LISTEN'],
    sshd: ['AllowTcpForwarding yes', 'GatewayPorts yes', 'PermitTunnel yes'],
  },
  ProtocolBaseline: {},
  ExpectedDoHResolvers: [],
  PayloadEntropyThreshold: 7.2,
  ESXiServiceProfiles: {
    // What vSphere documents for a management vmkernel port: HTTPS/API, the MKS/NFC port 902,
    // CIM, SLP inbound; DNS, NTP, syslog, vCenter heartbeats outbound.
    management: {
      inbound: [
        { transport: 'tcp', port: 443 }, { transport: 'tcp', port: 902 },
        { transport: 'tcp', port: 5989 }, { transport: 'udp', port: 427 },
        { transport: 'tcp', port: 80 },
      ],
      outbound: [
        { transport: 'udp', port: 53 }, { transport: 'tcp', port: 53 },
        { transport: 'udp', port: 123 }, { transport: 'udp', port: 514 },
        { transport: 'udp', port: 902 }, { transport: 'tcp', port: 902 },
      ],
    },
  },
  networks: { internal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] },
  assets: { esxiManagement: [], dnsResolvers: [], proxies: [] },
  suppression: { perHostPair: true },
  endpoint: { clockSkewSec: 5 },
  rules: {
    // Low-surprise moves (HTTP on 8080, TLS on 8443) are everyday practice and the biggest
    // source of the "protocol on non-standard port" noise peers are known for: off by default.
    protocolPortMismatch: { enabled: true, minSurprise: 2, minCarriedBytes: 512 },
    cleartextEntropy: { enabled: true, minSampleBytes: 256 },
    sshAsymmetry: { enabled: true, minDurationSec: 60, minPayloadBytes: 1_000_000 },
    // Above the few KB a rekey or an agent-forwarding signature moves server-first.
    sshSessionShape: {
      enabled: true, minPackets: 20, minEchoes: 8, minForwardExchanges: 1,
      minExchangesOverBulk: 3, minReverseBytes: 8192,
    },
    // A DNS message is rarely over 512 bytes (RFC 1035 s4.2.1 UDP limit, still what stubs
    // ask); with HTTP/2 HEADERS or DATA framing and AEAD overhead 600 covers it.
    doh: { enabled: true, maxDnsRecordBytes: 600, minShapePairs: 3 },
    // Measured on the corpus: tunnels (iodine, dnscat2, dns2tcp, DNSExfiltrator) average
    // 30-240 bytes under their domain; CDN and service names stay under 20.
    dnsTunnel: {
      enabled: true, minDistinctNames: 10, minMeanSubdomainBytes: 28,
      minEncodedSubdomainBytes: 52, minEntropy: 4.2,
      ignoreDomains: ['in-addr.arpa', 'ip6.arpa'],
    },
    icmpTunnel: { enabled: true },
    relay: { enabled: true },
    esxiProfile: { enabled: true },
    volumeOutlier: { enabled: true },
    proxyTunnel: { enabled: true },
    vpn: { enabled: true, allowedServers: [] },
    encapsulation: { enabled: true, allowed: [] },
  },
};
