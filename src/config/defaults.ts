// Every tunable the analytics use, with its default and why. The seed's tunable elements
// (DET0538: AllowedTools, DataAsymmetryThreshold, TimeWindow, ForwardingFlags,
// ProtocolBaseline, ExpectedDoHResolvers, PayloadEntropyThreshold, ESXiServiceProfiles) keep
// their names so a detection engineer finds them from the strategy text. The YAML file a user
// writes has exactly this shape. What each key means, its rule and why its default: the
// `.describe()` texts in src/config/schema.ts, the one place the documentation is kept
// (`tunnelhound config defaults` prints them above each key; a type check there keeps the
// schema and these types the same shape).

import { DEFAULT_FLOW_TABLE, FlowTableOptions } from '../flow/flow-table';

export type Severity = 'low' | 'medium' | 'high';

export interface RuleSwitch {
  enabled: boolean;
  severity?: Severity;
}

export interface AllowedTool {
  executable?: string;
  name?: string;
  sha256?: string;
  user?: string;
  action: 'suppress' | 'lower';
}

export interface EsxiService {
  transport: 'tcp' | 'udp';
  port: number;
  peers?: string[];
}

export interface EsxiServiceProfile {
  inbound: EsxiService[];
  outbound: EsxiService[];
}

export interface TunnelhoundConfig {
  flowTable: FlowTableOptions;
  AllowedTools: AllowedTool[];
  DataAsymmetryThreshold: number;
  TimeWindow: number;
  ForwardingFlags: Record<string, string[]>;
  ProtocolBaseline: Record<string, string[]>;
  ExpectedDoHResolvers: string[];
  PayloadEntropyThreshold: number;
  ESXiServiceProfiles: Record<string, EsxiServiceProfile>;
  networks: {
    internal: string[];
  };
  assets: {
    esxiManagement: { address: string; profile: string }[];
    dnsResolvers: string[];
    proxies: string[];
  };
  suppression: {
    perHostPair: boolean;
  };
  endpoint: {
    clockSkewSec: number;
  };
  rules: {
    protocolPortMismatch: RuleSwitch & {
      minSurprise: 1 | 2 | 3;
      minCarriedBytes: number;
    };
    cleartextEntropy: RuleSwitch & {
      minSampleBytes: number;
      minShapeBytes: number;
      maxPrintableRatio: number;
    };
    sshAsymmetry: RuleSwitch & {
      minDurationSec: number;
      minPayloadBytes: number;
    };
    sshSessionShape: RuleSwitch & {
      minPackets: number;
      minEchoes: number;
      minForwardExchanges: number;
      minExchangesOverBulk: number;
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
      /**
       * Also alert on DoH to public services (the well-known ones, and DoH/DNS-named SNI
       * outside networks.internal), for sites that forbid DoH outright. ESXi management
       * addresses alert regardless.
       */
      alertOnPublicResolvers: boolean;
      /** An answer this long (seconds) after the client's last request waited at the server. */
      longPollWaitSec: number;
      /** ... and the client asking again within this long (seconds) makes a long-poll cycle. */
      longPollFollowSec: number;
      /** Long-poll cycles that make a DoH flow a DNS tunnel (doh_tunnel), whatever resolver. */
      longPollMinCycles: number;
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
    icmpTunnel: RuleSwitch & {
      minEchoes: number;
      minChangedRatio: number;
      minUnmatchedReplyRatio: number;
      minDistinctSizes: number;
    };
    relay: RuleSwitch & {
      maxStartGapSec: number;
      maxEndGapSec: number;
      byteTolerance: number;
      minPayloadBytes: number;
      allowedRelays: string[];
    };
    esxiProfile: RuleSwitch;
    volumeOutlier: RuleSwitch & {
      minHistory: number;
      zThreshold: number;
    };
    proxyTunnel: RuleSwitch;
    /** TLS without SNI to a public address on an RFC 6335 dynamic port (49152-65535). */
    tlsNoSni: RuleSwitch & {
      minCarriedBytes: number;
    };
    vpn: RuleSwitch & {
      allowedServers: string[];
      dtlsPorts: number[];
      dtlsMinPackets: number;
      controlHosts: string[];
    };
    encapsulation: RuleSwitch & {
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
    protocolPortMismatch: { enabled: true, minSurprise: 2, minCarriedBytes: 512 },
    cleartextEntropy: {
      enabled: true, minSampleBytes: 256, minShapeBytes: 48, maxPrintableRatio: 0.6,
    },
    sshAsymmetry: { enabled: true, minDurationSec: 60, minPayloadBytes: 1_000_000 },
    sshSessionShape: {
      enabled: true, minPackets: 20, minEchoes: 8, minForwardExchanges: 1,
      minExchangesOverBulk: 3, minReverseBytes: 8192,
    },
    // A DNS message is rarely over 512 bytes (RFC 1035 s4.2.1 UDP limit, still what stubs
    // ask); with HTTP/2 HEADERS or DATA framing and AEAD overhead 600 covers it.
    // minShapePairs: HTTP/2 control frames aside, a page load over one SNI-less connection
    // makes a handful of requests (3-4 in the corpus), while a stub resolver pointed at an
    // address sends one per lookup (8-9 within the first 16 records in the corpus); 6 sits
    // between. alertOnPublicResolvers: DoH to the big public services is everyday browser
    // and OS behaviour, noise unless the site bans DoH.
    // Long poll: dns2tcp through 1.1.1.1 waits 1.58-3.09 s and re-asks after under 1 ms;
    // no benign DoH flow of the corpus has a single cycle (see doh-long-poll.ts).
    doh: { enabled: true, maxDnsRecordBytes: 600, minShapePairs: 6,
      alertOnPublicResolvers: false, longPollWaitSec: 1, longPollFollowSec: 0.05,
      longPollMinCycles: 2 },
    // Measured on the corpus: tunnels (iodine, dnscat2, dns2tcp, DNSExfiltrator) average
    // 30-240 bytes under their domain; CDN and service names stay under 20.
    dnsTunnel: {
      enabled: true, minDistinctNames: 10, minMeanSubdomainBytes: 28,
      minEncodedSubdomainBytes: 52, minEntropy: 4.2,
      ignoreDomains: ['in-addr.arpa', 'ip6.arpa'],
    },
    icmpTunnel: {
      enabled: true, minEchoes: 8, minChangedRatio: 0.5, minUnmatchedReplyRatio: 0.3,
      minDistinctSizes: 3,
    },
    relay: {
      enabled: true, maxStartGapSec: 2, maxEndGapSec: 5, byteTolerance: 0.1,
      minPayloadBytes: 20_000, allowedRelays: [],
    },
    esxiProfile: { enabled: true },
    volumeOutlier: { enabled: true, minHistory: 50, zThreshold: 4 },
    proxyTunnel: { enabled: true },
    // As protocolPortMismatch: a session that only shook hands carried nothing.
    tlsNoSni: { enabled: true, minCarriedBytes: 512 },
    vpn: { enabled: true, allowedServers: [], dtlsPorts: [443], dtlsMinPackets: 8,
      controlHosts: ['api.cloudflareclient.com', 'zero-trust-client.cloudflareclient.com'] },
    encapsulation: { enabled: true, allowed: [] },
  },
};
