// The config file's rules (zod 4) and each key's documentation, in one place: `.describe()`
// texts are what `tunnelhound config defaults` prints above each key, and defaults.ts points
// here instead of repeating them. The schema is of the MERGED config (file over defaults), so
// every key is required here and optional in a file. Cross-key rules zod would skip once any
// other problem is found (ESXi profile references) live in crossProblems() below.

import { z } from 'zod';
import { ENTROPY_SAMPLE_BYTES } from '../flow/flow-state';
import { MIN_ENTROPY_SAMPLE } from '../flow/entropy';
import { ENCAP_NAMES } from '../decode/packet';
import { PROTO_NAMES } from '../protocols/proto';
import { CIDR_RULE, cidrProblem } from './cidr';
import { TunnelhoundConfig } from './defaults';

/** node:net BlockList checks its entries one by one: a list this long is already a smell. */
export const MAX_CIDRS = 4096;
export const MAX_ALLOWED_TOOLS = 10_000;
export const MAX_LIST = 256;
/** Flow table slots: 16 keeps the hash table meaningful, 50 M is ~10 GB of per-flow arrays. */
export const FLOW_CAPACITY = { min: 16, max: 50_000_000 } as const;
/** One day: a timeout or join window longer than that holds state no analytic uses. */
export const MAX_WINDOW_SEC = 86_400;
/** Entropy histograms are 512 bytes each: 4 Mi of them is 2 GiB. */
export const MAX_ENTROPY_POOL = 4_194_304;
/**
 * SSH session-shape thresholds count packets, echoes and exchanges of one flow; past this a
 * rule would in practice never fire, so such a value is taken for a typo.
 */
export const MAX_SHAPE_COUNT = 65_535;
/** Inspectors hold up to ~48 KiB each: 65 536 of them is ~3 GiB. */
export const MAX_INSPECTOR_POOL = 65_536;

const KNOWN_PROTOCOLS = PROTO_NAMES.filter((n) => n !== 'unknown');
const KNOWN_CARRIERS = ENCAP_NAMES.filter((n) => n !== 'none');
const BASELINE_KEY = /^(tcp|udp)\/(\d{1,5})$/;
const PROGRAM_NAME = /^[A-Za-z0-9_.+-]{1,64}$/;
const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** RFC 1123 host name: labels of 1-63 letters, digits, hyphens, not starting/ending with '-'. */
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const MAX_HOST_NAME = 253;

function cidr() {
  return z.string().refine((s) => cidrProblem(s) === null, { error: CIDR_RULE });
}

function cidrList(doc: string) {
  return z.array(cidr()).max(MAX_CIDRS).describe(doc);
}

function isHostName(s: string): boolean {
  return s.length <= MAX_HOST_NAME && s.split('.').every((l) => HOST_LABEL.test(l));
}

/** An SNI names a host (RFC 6066 s3: no IP literals, no trailing dot); the rest are addresses. */
function looksLikeAddress(s: string): boolean {
  return s.includes(':') || s.includes('/') || /^[0-9.]+$/.test(s);
}

const resolver = z.string().superRefine((s, ctx) => {
  if (looksLikeAddress(s)) {
    if (cidrProblem(s) !== null) ctx.addIssue({ code: 'custom', message: CIDR_RULE, input: s });
  } else if (!isHostName(s)) {
    ctx.addIssue({ code: 'custom', input: s, message: 'must be an address, a CIDR or a TLS ' +
      'server name (letters, digits, hyphens and dots, labels of 1-63, no trailing dot)' });
  }
});

const severity = z.enum(['low', 'medium', 'high']);

function ruleSwitch<T extends z.ZodRawShape>(doc: string, extra: T) {
  return z.strictObject({ enabled: z.boolean(), severity: severity.optional(), ...extra })
    .describe(doc);
}

const port = z.int().min(1).max(65535);

const esxiService = z.strictObject({
  transport: z.enum(['tcp', 'udp']),
  port,
  peers: cidrList('').optional(),
});

const allowedTool = z.strictObject({
  executable: z.string().min(1).max(4096).optional(),
  name: z.string().min(1).max(255).optional(),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hex digits' }).optional(),
  user: z.string().min(1).max(256).optional(),
  action: z.enum(['suppress', 'lower']),
}).refine((t) => [t.executable, t.name, t.sha256, t.user].some((m) => m !== undefined),
  { error: 'needs at least one of executable, name, sha256, user (an entry matching ' +
    'every process would silence the analytic)' });

const programFlags = z.record(z.string(), z.array(z.string().min(1).max(256)).max(64));

const baseline = z.record(z.string(), z.array(z.enum(KNOWN_PROTOCOLS as [string, ...string[]])));

const profiles = z.record(z.string(), z.strictObject({
  inbound: z.array(esxiService).max(MAX_LIST)
    .describe('Services others may open on the host (the host is the server).'),
  outbound: z.array(esxiService).max(MAX_LIST)
    .describe('Flows the host itself may open (the host is the client).'),
}));

export const CONFIG_SCHEMA = z.strictObject({
  flowTable: z.strictObject({
    capacity: z.int().min(FLOW_CAPACITY.min).max(FLOW_CAPACITY.max)
      .describe('Most flows held at once per shard; the oldest is evicted (and reported) to ' +
        'admit a new one. Needs a restart to change.'),
    idleTimeoutSec: z.number().gt(0).max(MAX_WINDOW_SEC)
      .describe('A flow with no packet for this long (seconds) ends. Tunnels idle for ' +
        'minutes between bursts; cutting them early splits one session into innocent pieces.'),
    closedTimeoutSec: z.number().gt(0).max(3600)
      .describe('A TCP flow that saw RST, or FIN both ways, ends after this much quiet.'),
    activeTimeoutSec: z.number().gt(0).max(MAX_WINDOW_SEC)
      .describe('A live flow is reported again after this long, so long tunnels are judged ' +
        'while they live.'),
    entropyPool: z.int().min(1).max(MAX_ENTROPY_POOL)
      .describe('Entropy histograms available at once per shard (512 bytes each).'),
    inspectorPool: z.int().min(1).max(MAX_INSPECTOR_POOL)
      .describe('Handshakes reassembled at once per shard (two 16 KiB stream buffers each, ' +
        'plus 16 KiB once QUIC is seen).'),
  }).describe('Flow table sizing and timeouts. Sizes are fixed when the sensor starts: a ' +
    'reload (SIGHUP) ignores changes here.'),
  AllowedTools: z.array(allowedTool).max(MAX_ALLOWED_TOOLS)
    .describe('Tools admins use on purpose (AN1483), matched against the endpoint feed\'s ' +
      'process. Each entry: executable (full path, case-insensitive for Windows paths), name ' +
      '(basename, case-insensitive), sha256 (hex), user; every field given must match, at ' +
      'least one is given. action: suppress (no alert) or lower (severity one step down, ' +
      'score halved).'),
  DataAsymmetryThreshold: z.number().gt(1).max(1_000_000)
    .describe('Ratio of the larger to the smaller payload direction at which a flow counts ' +
      'as a bulk carrier (AN1483); above 1, since every flow has a ratio of at least 1. ' +
      'Interactive shells stay near 1-3; a forwarded download is far above.'),
  TimeWindow: z.number().gt(0).max(MAX_WINDOW_SEC)
    .describe('Seconds within which endpoint events join flows, and repeats per host pair ' +
      'are folded (at most one day).'),
  ForwardingFlags: programFlags
    .describe('Command-line flags and settings that mean port forwarding, per program name ' +
      '(AN1484). sshd entries are sshd_config settings ("AllowTcpForwarding yes"), never ' +
      'sshd\'s own switches (its -D and -R mean something else). A program given here ' +
      'replaces its default list; [] drops it.'),
  ProtocolBaseline: baseline
    .describe('Overrides of the built-in port baseline: tcp/PORT or udp/PORT -> protocols ' +
      `expected there (${KNOWN_PROTOCOLS.join(', ')}). A protocol listed never raises a ` +
      'mismatch on that port; one not listed does.'),
  ExpectedDoHResolvers: z.array(resolver).max(MAX_CIDRS)
    .describe('DoH resolvers the environment uses on purpose (AN1485): addresses, CIDRs or ' +
      'TLS server names (exact host names, no wildcards).'),
  PayloadEntropyThreshold: z.number().gt(0).max(8)
    .describe('Corrected payload entropy in bits/byte (0-8) above which bytes on a ' +
      'cleartext port count as encrypted or compressed (AN1484/AN1485). Text sits near ' +
      '4.5-5.5, ciphertext near 8.'),
  ESXiServiceProfiles: profiles
    .describe('Allowed services per ESXi profile name (AN1486); assets.esxiManagement picks ' +
      'the profile. A service is {transport: tcp|udp, port: 1-65535, peers: [CIDR, ...]}; ' +
      'without peers any peer is allowed. The default "management" profile is what vSphere ' +
      'documents for a management vmkernel port: HTTPS/API, MKS/NFC 902, CIM, SLP inbound; ' +
      'DNS, NTP, syslog, vCenter heartbeats outbound.'),
  networks: z.strictObject({
    internal: cidrList('CIDRs of the monitored organisation; the rest is "external".'),
  }).describe('Where the monitored network is.'),
  assets: z.strictObject({
    esxiManagement: z.array(z.strictObject({ address: cidr(), profile: z.string() }))
      .max(MAX_CIDRS)
      .describe('ESXi management interfaces ({address: IP or CIDR, profile: NAME}) and the ' +
        'ESXiServiceProfiles entry each must keep to.'),
    dnsResolvers: cidrList('The resolvers hosts are meant to use (plain DNS to them is ' +
      'normal).'),
    proxies: cidrList('The forward proxies users are meant to go through: HTTP CONNECT or ' +
      'SOCKS to them carrying TLS is ordinary browsing, not a tunnel.'),
  }).describe('Roles of particular addresses.'),
  suppression: z.strictObject({
    perHostPair: z.boolean()
      .describe('Fold repeated alerts between the same two hosts within TimeWindow.'),
  }).describe('Folding of repeated alerts.'),
  endpoint: z.strictObject({
    clockSkewSec: z.number().min(0).max(3600)
      .describe('Largest clock difference between sensor and endpoint agent tolerated by ' +
        'the join, seconds.'),
  }).describe('The endpoint feed join.'),
  rules: z.strictObject({
    protocolPortMismatch: ruleSwitch('Protocol identified from the bytes differs from the ' +
      'port baseline (AN1484).', {
      minSurprise: z.literal([1, 2, 3]).describe('Least surprise (1 low, 2 medium, 3 high) ' +
        'that raises an alert. Low-surprise moves (HTTP on 8080, TLS on 8443) are everyday ' +
        'practice and the main source of off-port noise, hence 2.'),
      minCarriedBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER)
        .describe('SSH and TLS must carry at least this many payload bytes beyond their ' +
          'handshake before a port mismatch alerts: a scan or failed login carries nothing.'),
    }),
    cleartextEntropy: ruleSwitch('Ciphertext-like bytes on a cleartext port (AN1484).', {
      minSampleBytes: z.int().min(MIN_ENTROPY_SAMPLE).max(ENTROPY_SAMPLE_BYTES)
        .describe(`Fewest payload bytes in a direction before its entropy is judged ` +
          `(${MIN_ENTROPY_SAMPLE}-${ENTROPY_SAMPLE_BYTES}: the sensor samples at most ` +
          `${ENTROPY_SAMPLE_BYTES} bytes per direction).`),
      minShapeBytes: z.int().min(1).max(64)
        .describe('Below minSampleBytes, the first payload bytes (at most 64) of a direction ' +
          'on a text port are judged by their byte shape instead: printable share, bit ' +
          'density and distinct bytes against what random bytes of that length give. Fewest ' +
          'bytes for it (1-64).'),
      maxPrintableRatio: z.number().gt(0).max(1)
        .describe('Largest printable-byte share still counted as random-looking (text is ' +
          'near 1).'),
    }),
    sshAsymmetry: ruleSwitch('Long-lived, strongly asymmetric SSH (AN1483).', {
      minDurationSec: z.number().gt(0).max(30 * MAX_WINDOW_SEC)
        .describe('A flow must have lasted this long (seconds) to count as long-lived.'),
      minPayloadBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER)
        .describe('... and carried at least this many payload bytes in all.'),
    }),
    sshSessionShape: ruleSwitch('SSH whose packet shape is forwarding, not a shell (AN1483).',
      {
        minPackets: z.int().min(1).max(MAX_SHAPE_COUNT)
          .describe('Encrypted payload segments (both ways) before a session\'s shape is ' +
            'judged.'),
        minEchoes: z.int().min(1).max(MAX_SHAPE_COUNT)
          .describe('Keystrokes the peer echoed that make a session interactive (a person ' +
            'typing).'),
        minForwardExchanges: z.int().min(1).max(MAX_SHAPE_COUNT)
          .describe('Client-started request/answer exchanges that make local or dynamic ' +
            'forwarding.'),
        minExchangesOverBulk: z.int().min(1).max(MAX_SHAPE_COUNT)
          .describe('... when the session also has file-copy bulk runs (else it reads as ' +
            'scp/sftp).'),
        minReverseBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER)
          .describe('Data bytes in server-started exchanges that make reverse forwarding ' +
            '(-R); above the few KB a rekey or an agent-forwarding signature moves ' +
            'server-first.'),
      }),
    doh: ruleSwitch('DNS over HTTPS to an unexpected resolver (AN1485; AN1486 from an ESXi ' +
      'management address).', {
      maxDnsRecordBytes: z.int().min(64).max(16384)
        .describe('Largest TLS application_data record (bytes, after the handshake) still ' +
          'counted as DNS-sized: a DNS message (rarely over 512 bytes) plus HTTP/2 framing ' +
          'and AEAD overhead.'),
      minShapePairs: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Fewest DNS-sized request/response record pairs (HTTP/2 control frames ' +
          'not counted) for a DoH-like shape; a page load makes a handful, a resolver ' +
          'session one per lookup.'),
      alertOnPublicResolvers: z.boolean()
        .describe('Also alert on DoH to public DoH services: the well-known ones ' +
          '(Cloudflare, Google, Quad9...) and any server outside networks.internal whose SNI ' +
          'names a DoH/DNS service (doh.*, dns.*), for sites that forbid DoH outright. Off: ' +
          'that is everyday browser and stub-resolver traffic. DoH from an ESXi management ' +
          'address alerts either way.'),
      longPollWaitSec: z.number().gt(0).max(60)
        .describe('Seconds between a DoH request and the answer after which the answer waited ' +
          'at the server: resolvers answer in milliseconds, a DNS tunnel server holds each ' +
          'query until it has data to send down.'),
      longPollFollowSec: z.number().gt(0).max(5)
        .describe('... and the client must ask again within this many seconds of that answer ' +
          '(a tunnel client re-asks at once; a browser asks when a page needs a name).'),
      longPollMinCycles: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Such wait-then-re-ask cycles in the first TLS records of a DoH flow that ' +
          'make it a DNS tunnel (doh_tunnel), to any resolver, expected or public.'),
    }),
    dnsTunnel: ruleSwitch('Data carried in DNS names (AN1485).', {
      minDistinctNames: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Distinct query names under one registered domain from one client within ' +
          'TimeWindow before the names are judged together.'),
      minMeanSubdomainBytes: z.int().min(1).max(255)
        .describe('... and the part of those names under the registered domain must average ' +
          'at least this many bytes (tunnels: 30-240, CDN and service names: under 20).'),
      minEncodedSubdomainBytes: z.int().min(1).max(255)
        .describe('One name alone counts when its part under the registered domain is this ' +
          'long (bytes) ...'),
      minEntropy: z.number().gt(0).max(8)
        .describe('... and has at least this Shannon entropy (bits per byte).'),
      ignoreDomains: z.array(z.string().min(1).max(253)).max(MAX_LIST)
        .describe('Registered domains never judged (reverse zones have long hex-like names).'),
    }),
    icmpTunnel: ruleSwitch('Data carried in ICMP echo (AN1484).', {
      minEchoes: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Fewest echo requests before a flow is judged (a handful of pings says ' +
          'nothing).'),
      minChangedRatio: z.number().min(0).max(1)
        .describe('Share of requests whose data changed from the previous one (ping: 0, ' +
          'tunnel: ~1).'),
      minUnmatchedReplyRatio: z.number().min(0).max(1)
        .describe('Share of replies that repeat no recent request (ping: 0; a tunnel ' +
          'answers data).'),
      minDistinctSizes: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Distinct echo data sizes from which sizes count as varying (ping uses ' +
          'one or two).'),
    }),
    relay: ruleSwitch('A host relaying one flow into another (AN1484).', {
      maxStartGapSec: z.number().gt(0).max(MAX_WINDOW_SEC)
        .describe('The outbound leg must start within this many seconds after the inbound ' +
          'one.'),
      maxEndGapSec: z.number().gt(0).max(MAX_WINDOW_SEC)
        .describe('... and end within this many seconds of it.'),
      byteTolerance: z.number().min(0).max(1)
        .describe('Largest relative difference of bytes per direction between the legs ' +
          '(0.1 = 10 %): socat and portproxy copy bytes exactly; stunnel adds TLS framing, a ' +
          'few per cent on a bulk leg.'),
      minPayloadBytes: z.int().min(1).max(Number.MAX_SAFE_INTEGER)
        .describe('Fewest payload bytes (both directions) on each leg: small flows match by ' +
          'chance.'),
      allowedRelays: cidrList('Hosts that relay on purpose (reverse proxies, load ' +
        'balancers): CIDRs, never judged.'),
    }),
    esxiProfile: ruleSwitch('An ESXi management address breaking its profile (AN1486).', {}),
    volumeOutlier: ruleSwitch('Unidentified bytes far above what their port usually carries ' +
      '(AN1484); a large flow is no tunnel by itself.', {
      minHistory: z.int().min(1).max(1_000_000)
        .describe('Finished flows a server port must have seen before its outliers mean ' +
          'anything.'),
      zThreshold: z.number().gt(0).max(100)
        .describe('Standard deviations of log10(bytes) above the port\'s mean that make an ' +
          'outlier.'),
    }),
    proxyTunnel: ruleSwitch('HTTP CONNECT or SOCKS carrying another session past a proxy ' +
      'not in assets.proxies (AN1484).', {}),
    tlsNoSni: ruleSwitch('TLS without SNI to a public address on a dynamic port ' +
      '(49152-65535, RFC 6335), the way circumvention proxies such as UltraSurf connect ' +
      '(AN1484).', {
      minCarriedBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER)
        .describe('Client payload bytes beyond the ClientHello before it alerts: a scan or ' +
          'an aborted connection carries nothing.'),
    }),
    vpn: ruleSwitch('VPN-style tooling: WireGuard (and WARP-style variants), OpenVPN, IKE, ' +
      'Tailscale, tinc, SoftEther NAT-T, SSL VPN DTLS channels, Tor (AN1485).', {
      allowedServers: cidrList('The organisation\'s own VPN concentrators (CIDRs): tunnels ' +
        'to them are expected.'),
      dtlsPorts: z.array(port).max(MAX_LIST)
        .describe('UDP server ports where a standard DTLS session is read as an SSL VPN data ' +
          'channel (AnyConnect/ocserv, FortiClient share the TLS port). Cisco\'s pre-RFC ' +
          'DTLS counts on any port; WebRTC DTLS, on ephemeral ports, stays out.'),
      dtlsMinPackets: z.int().min(1).max(MAX_SHAPE_COUNT)
        .describe('Datagrams each direction of a DTLS flow must carry before it counts as a ' +
          'VPN channel: more than a handshake, so a probe or a failed handshake does not.'),
      controlHosts: z.array(z.string().refine(isHostName, { error: 'must be a host name ' +
        '(letters, digits, hyphens and dots, labels of 1-63)' })).max(MAX_LIST)
        .describe('TLS server names a VPN vendor documents for its client\'s control API ' +
          '(registration, settings), raised as vpn_client_api at low severity. Default: ' +
          'Cloudflare WARP\'s; empty the list where WARP is sanctioned.'),
    }),
    encapsulation: ruleSwitch('Flows seen only inside another packet (IP-in-IP, GRE, VXLAN, ' +
      'GTP-U, Teredo, AYIYA, ...) (AN1484).', {
      allowed: z.array(z.enum(KNOWN_CARRIERS as [string, ...string[]])).max(MAX_LIST)
        .describe(`Carriers that are part of this network's own fabric ` +
          `(${KNOWN_CARRIERS.join(', ')}): data-centre overlays such as vxlan or geneve, ` +
          'erspan mirroring, gtp-u in a mobile core. Flows inside them raise nothing. ' +
          'teredo and ayiya are host IPv6 tunnels and score higher when not listed.'),
    }),
  }).describe('Per-rule switches. In each rule, enabled: false silences it; severity (low, ' +
    'medium, high), when set, pins the severity of every alert it raises instead of the ' +
    'computed one.'),
});

// The schema and the TypeScript contract must describe the same shape, both ways.
type Parsed = z.infer<typeof CONFIG_SCHEMA>;
const toContract = (p: Parsed): TunnelhoundConfig => p;
const fromContract = (c: TunnelhoundConfig): Parsed => c;
void toContract;
void fromContract;

export interface Problem {
  path: (string | number)[];
  /** The value at fault; undefined when the fault is the key itself (the rule says so). */
  value?: unknown;
  rule: string;
}

function baselineKey(k: string): boolean {
  const m = BASELINE_KEY.exec(k);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}

/** Names of the keys of the three maps (zod would skip these once a value is wrong). */
const MAP_KEYS: { key: string; ok: (k: string) => boolean; rule: string }[] = [
  { key: 'ForwardingFlags', ok: (k) => PROGRAM_NAME.test(k),
    rule: 'key must be a program name: 1-64 letters, digits, or . _ + -' },
  { key: 'ProtocolBaseline', ok: baselineKey,
    rule: 'key must be tcp/PORT or udp/PORT with PORT 1-65535' },
  { key: 'ESXiServiceProfiles', ok: (k) => PROFILE_NAME.test(k),
    rule: 'key must be a profile name: 1-64 letters, digits, or . _ -' },
];

/**
 * Rules zod runs only on an otherwise valid document, checked on the merged document every
 * time so that one run lists every problem: map key names, ESXi profile references.
 */
export function crossProblems(doc: Record<string, unknown>): Problem[] {
  const out: Problem[] = [];
  for (const m of MAP_KEYS) {
    const map = doc[m.key];
    if (map === null || typeof map !== 'object' || Array.isArray(map)) continue;
    for (const k of Object.keys(map)) {
      if (m.ok(k)) continue;
      out.push({ path: [m.key, k], rule: m.rule.replace('key', `key ${JSON.stringify(k)}`) });
    }
  }
  const profileMap = doc.ESXiServiceProfiles;
  const names = profileMap !== null && typeof profileMap === 'object'
    ? Object.keys(profileMap) : [];
  const assets = doc.assets as { esxiManagement?: unknown } | undefined;
  const list = assets?.esxiManagement;
  if (!Array.isArray(list)) return out;
  list.forEach((entry: unknown, i) => {
    const profile = (entry as { profile?: unknown } | null)?.profile;
    if (typeof profile === 'string' && !names.includes(profile)) {
      out.push({ path: ['assets', 'esxiManagement', i, 'profile'], value: profile,
        rule: `must name an ESXiServiceProfiles entry (${names.join(', ') || 'none defined'})` });
    }
  });
  return out;
}
