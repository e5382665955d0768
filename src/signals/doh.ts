// DNS over HTTPS to a resolver the environment did not list in ExpectedDoHResolvers
// (AN1485; AN1486 when the client is an ESXi management address). A flow counts as DoH when
//   - its SNI is a known public DoH service or looks like one (a "doh"/"dns" first label),
//   - or its server address is a known public DoH resolver,
//   - or it sent no SNI, offered ALPN h2, and the record-size shape is DoH-like: after the
//     handshake records, at least rules.doh.minShapePairs request records answered by
//     response records (HTTP/2 control frames not counted) and no record larger than
//     rules.doh.maxDnsRecordBytes in the first TLS_SHAPE_RECORDS of either side (browsing
//     pulls large records early).
// DoH to a public service is what browsers and stub resolvers do every day: a well-known one
// (KNOWN_DOH_NAMES / KNOWN_DOH_ADDRESSES), or any server outside networks.internal whose SNI
// openly names a DoH/DNS service (dnscrypt-proxy picks among dozens of volunteer resolvers,
// doh.ffmuc.net, doh.powerdns.org..., and no list keeps up with them). Both alert only where
// the site forbids DoH outright (rules.doh.alertOnPublicResolvers) or from an ESXi
// management address, which should speak no DoH at all. DoH that hides (no SNI, found by
// shape) and a DoH/DNS-named server inside networks.internal that nobody listed keep
// alerting. The price: a tunnel's own DoH server on a public address that calls itself
// doh.<its domain> is as quiet as a volunteer resolver unless the switch is on (the same
// gap as a tunnel through a listed service, below). Severity rises when the same client
// also used plain DNS within TimeWindow (a second resolver path, the usual sign of an
// application bypassing the site resolver) and when the client is an ESXi management
// interface.
//
// A DoH flow whose answers wait seconds at the server and are asked again at once is a DNS
// tunnel behind the resolver, whichever resolver it is (doh_tunnel, doh-long-poll.ts): this
// is judged before the expected and public resolver lists, which only say who may resolve.
// It found dns2tcp through 1.1.1.1 (ndpi__dns2tcp_tunnel: SNI-less, 7 DNS-sized pairs, no
// size, count, byte or rate threshold told it from ndpi__doh's flow to the same address or
// from dnscrypt-proxy's and Firefox's flows).
//
// gap: Korving's DoH tunnels (dnstt, dns2tcp behind a private DoH server) are not identified
// as DoH at all: their server is private, SNI-less and answers with records over
// maxDnsRecordBytes. Request size would separate them (every request 252-655 bytes, medians
// 252-575: names filled with encoded data; benign DoH here has medians 80-172), but those
// flows are found on the server's upstream DNS leg by dns_tunnel instead.

import { TunnelhoundConfig } from '../config/defaults';
import { CidrSet, parseCidr } from '../config/cidr';
import { Detection } from '../detect/detection';
import { FlowRecord } from '../flow/flow-record';
import { TlsShape } from '../flow/features/tls-shape';
import { Evidence } from '../output/ecs-schema';
import { PROTO } from '../protocols/identify';
import { Signal, SignalFactory } from './signal';
import { longPollCycles } from './doh-long-poll';

/**
 * Public DoH services by host name (each matches itself and its subdomains), from the
 * providers' own documentation pages.
 */
export const KNOWN_DOH_NAMES: readonly string[] = [
  'cloudflare-dns.com', 'dns.google', 'dns.google.com', 'dns.quad9.net', 'doh.opendns.com',
  'dns.nextdns.io', 'doh.cleanbrowsing.org', 'dns.adguard.com', 'dns.adguard-dns.com',
  'doh.mullvad.net', 'dns.mullvad.net', 'doh.dns.sb', 'dns.controld.com',
  'freedns.controld.com', 'odvr.nic.cz', 'doh.libredns.gr', 'dns.alidns.com', 'doh.pub',
  // Quad9's unsecured and ECS services beside dns.quad9.net (quad9.net/service/service-addresses)
  'dns9.quad9.net', 'dns10.quad9.net', 'dns11.quad9.net',
];
/** Anycast addresses of the same services. */
export const KNOWN_DOH_ADDRESSES: readonly string[] = [
  '1.1.1.1', '1.0.0.1', '1.1.1.2', '1.0.0.2', '1.1.1.3', '1.0.0.3', '8.8.8.8', '8.8.4.4',
  '9.9.9.9', '149.112.112.112', '208.67.222.222', '208.67.220.220', '94.140.14.14',
  '94.140.15.15', '185.228.168.9', '45.90.28.0/24', '45.90.30.0/24', '194.242.2.2',
  '2606:4700:4700::1111', '2606:4700:4700::1001', '2001:4860:4860::8888',
  '2001:4860:4860::8844', '2620:fe::fe', '2620:fe::9',
  '9.9.9.10', '149.112.112.10', '9.9.9.11', '149.112.112.11', '2620:fe::10', '2620:fe::fe:10',
  '2620:fe::11', '2620:fe::fe:11',
];
/** A first label like "doh", "doh-2", "dns", "dns1" (doh.ffmuc.net, dns.example.org). */
const DOH_LABEL = /^(doh|dns)(-?\d+)?\./;
/** TLS 1.3 sends its encrypted handshake as application_data: skip those records. */
const CLIENT_HANDSHAKE_RECORDS = 1;
const SERVER_HANDSHAKE_RECORDS = 1;
/**
 * Records this small are HTTP/2 control frames, not DNS requests or answers: a 9-byte frame
 * header (RFC 9113 s4.1) plus TLS overhead (17 bytes in TLS 1.3, RFC 8446 s5.2; 24 with TLS
 * 1.2 GCM) makes SETTINGS ack 26-33, WINDOW_UPDATE 30-37, PING 34-41. A DoH request carries
 * at least the DNS message (RFC 8484 s4.1) and answers carry the record data: both larger.
 */
const H2_CONTROL_RECORD_BYTES = 44;
const DOT_PORT = 853;
/** Clients remembered for "also used plain DNS"; the oldest go first. */
export const DOH_MAX_DNS_CLIENTS = 50_000;
/** Fewest DNS flows between sweeps of clients not seen for TimeWindow. */
export const DOH_SWEEP_EVERY = 1024;

function nameMatches(sni: string, list: readonly string[]): string | undefined {
  const s = sni.toLowerCase();
  return list.find((n) => s === n || s.endsWith(`.${n}`));
}

/**
 * Number of DNS-sized request/response pairs, or 0 when a large record rules DoH out.
 * HTTP/2 control frames are not counted: both sides send them on any h2 connection, so
 * counting them made a page load of three requests look like a resolver session.
 */
export function dohShapePairs(shape: TlsShape, maxRecord: number): number {
  const client = shape.records[0].slice(CLIENT_HANDSHAKE_RECORDS);
  const server = shape.records[1].slice(SERVER_HANDSHAKE_RECORDS);
  if (client.some((n) => n > maxRecord) || server.some((n) => n > maxRecord)) return 0;
  const messages = (list: number[]) => list.filter((n) => n > H2_CONTROL_RECORD_BYTES).length;
  return Math.min(messages(client), messages(server));
}

interface DohIdentity {
  how: 'sni' | 'address' | 'shape';
  detail: string;
  pairs: number;
  /** The public service (name or address) when the resolver is one. */
  publicService?: string;
  /** How it is known to be public: on our lists, or a DoH-named SNI on a public address. */
  publicBy?: 'listed' | 'named';
}

export const dohSignal: SignalFactory = (cfg: TunnelhoundConfig): Signal => {
  const rule = cfg.rules.doh;
  const esxi = new CidrSet(cfg.assets.esxiManagement.map((a) => a.address));
  const known = new CidrSet(KNOWN_DOH_ADDRESSES);
  const internal = new CidrSet(cfg.networks.internal);
  const expectedAddr = new CidrSet(cfg.ExpectedDoHResolvers.filter((e) => parseCidr(e)));
  const expectedNames = cfg.ExpectedDoHResolvers.filter((e) => parseCidr(e) === null)
    .map((n) => n.toLowerCase());
  const plainDns = new Map<string, number>();
  let observedSinceSweep = 0;

  function identify(r: FlowRecord): DohIdentity | null {
    const tls = r.fingerprints?.tls;
    const sni = tls?.sni;
    const pairs = r.tlsShape === undefined ? 0 : dohShapePairs(r.tlsShape, rule.maxDnsRecordBytes);
    const hit = sni === undefined ? undefined : nameMatches(sni, KNOWN_DOH_NAMES);
    if (hit !== undefined) {
      return { how: 'sni', detail: `SNI ${sni} (public DoH ${hit})`, pairs, publicService: hit,
        publicBy: 'listed' };
    }
    // Before the name test: the anycast addresses answer only for their provider's resolver,
    // so dns.cloudflare.com on 1.0.0.1 is Cloudflare's service whatever its first label says.
    if (known.contains(r.serverIp)) {
      return { how: 'address', detail: `${r.serverIp} is a public DoH resolver`, pairs,
        publicService: r.serverIp, publicBy: 'listed' };
    }
    if (sni !== undefined && DOH_LABEL.test(sni.toLowerCase())) {
      const detail = `SNI ${sni} names a DoH/DNS service`;
      // Inside our own networks a DoH server is someone's own, not a public service.
      if (internal.contains(r.serverIp)) return { how: 'sni', detail, pairs };
      return { how: 'sni', detail, pairs, publicService: sni, publicBy: 'named' };
    }
    // Shape alone only speaks for SNI-less connections: a DoH client configured with a bare
    // address sends none, while ordinary HTTPS to small pages (same shape) names its host.
    const h2 = tls?.alpn?.includes('h2') ?? false;
    if (sni === undefined && h2 && pairs >= rule.minShapePairs) {
      return { how: 'shape', detail: 'no SNI, ALPN h2, DNS-sized request/response records',
        pairs };
    }
    return null;
  }

  /** doh_tunnel: answers held at the server, re-asked at once (doh-long-poll.ts). */
  function longPollTunnel(r: FlowRecord, id: DohIdentity): Detection | null {
    if (r.tlsShape === undefined) return null;
    const lp = longPollCycles(r.tlsShape, { minWaitSec: rule.longPollWaitSec,
      maxFollowSec: rule.longPollFollowSec });
    if (lp.cycles < rule.longPollMinCycles) return null;
    const fromEsxi = esxi.contains(r.clientIp);
    const resolver = r.fingerprints?.tls?.sni ?? r.serverIp;
    return {
      analytic: fromEsxi ? 'AN1486' : 'AN1485',
      detection: 'doh_tunnel',
      name: `DNS tunnel over DoH through ${resolver}`,
      description: `${r.clientIp} keeps DoH queries waiting at ${r.serverIp}:${r.serverPort} ` +
        'and asks again as soon as each is answered: the long poll of a DNS tunnel behind ' +
        'the resolver',
      severity: 'high',
      score: 85,
      evidence: [{
        signal: 'doh_long_poll_cycles', value: lp.cycles, threshold: rule.longPollMinCycles,
        config_key: 'rules.doh.longPollMinCycles',
        detail: `answers that came >= ${rule.longPollWaitSec} s after the request ` +
          `(rules.doh.longPollWaitSec) and were asked again within ${rule.longPollFollowSec} s ` +
          '(rules.doh.longPollFollowSec)',
      }, {
        signal: 'doh_long_poll_wait', value: Math.round(lp.minWaitSec * 1000) / 1000,
        threshold: rule.longPollWaitSec, config_key: 'rules.doh.longPollWaitSec',
        detail: 'the shortest of those waits, seconds',
      }, {
        signal: 'doh_resolver', value: resolver, threshold: 'any resolver',
        config_key: 'ExpectedDoHResolvers',
        detail: `identified as DoH by ${id.how}: ${id.detail}; a tunnel is judged whatever ` +
          'the resolver',
      }],
    };
  }

  return {
    name: 'doh',
    observe({ record: r }) {
      if (r.dns === undefined || r.serverPort !== 53) return;
      // Updated in place, not re-inserted: see dns-tunnel.ts on Maps with holes at the
      // front. judge() checks the age itself, so a stale entry between sweeps is harmless.
      plainDns.set(r.clientIp, Math.max(r.lastTs, plainDns.get(r.clientIp) ?? 0));
      // Sweeps spaced by a quarter of the size: O(1) per flow however many clients.
      const every = Math.max(DOH_SWEEP_EVERY, plainDns.size >>> 2);
      if (++observedSinceSweep < every && plainDns.size <= DOH_MAX_DNS_CLIENTS) return;
      observedSinceSweep = 0;
      for (const [ip, ts] of plainDns) {
        if (r.lastTs - ts > cfg.TimeWindow) plainDns.delete(ip);
      }
      // Still too many: the earliest seen go, down to nine tenths (no sweep per flow).
      const keep = Math.floor(DOH_MAX_DNS_CLIENTS * 0.9);
      for (const ip of plainDns.keys()) {
        if (plainDns.size <= keep) break;
        plainDns.delete(ip);
      }
    },
    judge({ record: r }) {
      // DNS over TLS (RFC 7858, port 853) is its own protocol, not HTTPS: not judged here.
      if (!rule.enabled || r.ipProto !== 6 || r.serverPort === DOT_PORT) return null;
      if (r.protoByDir[0] !== PROTO.TLS && r.protoByDir[1] !== PROTO.TLS) return null;
      const id = identify(r);
      if (id === null) return null;
      const tunnel = longPollTunnel(r, id);
      if (tunnel !== null) return tunnel;
      const sni = r.fingerprints?.tls?.sni?.toLowerCase();
      if (expectedAddr.contains(r.serverIp) ||
        (sni !== undefined && nameMatches(sni, expectedNames) !== undefined)) return null;
      const fromEsxi = esxi.contains(r.clientIp);
      if (id.publicService !== undefined && !rule.alertOnPublicResolvers && !fromEsxi) return null;

      const evidence: Evidence[] = [{
        signal: 'doh_resolver', value: sni ?? r.serverIp,
        threshold: cfg.ExpectedDoHResolvers.length === 0 ? 'none listed' :
          cfg.ExpectedDoHResolvers.join(', '),
        config_key: 'ExpectedDoHResolvers',
        detail: `identified as DoH by ${id.how}: ${id.detail}; not an expected resolver`,
      }];
      if (id.publicService !== undefined) {
        evidence.push({
          signal: 'doh_public_resolver', value: id.publicService,
          threshold: rule.alertOnPublicResolvers ? 'alert on public resolvers' :
            'public resolvers alert only from ESXi management addresses',
          config_key: 'rules.doh.alertOnPublicResolvers',
          detail: id.publicBy === 'listed' ?
            'a well-known public DoH service (KNOWN_DOH_NAMES / KNOWN_DOH_ADDRESSES)' :
            `a DoH/DNS-named service on ${r.serverIp}, outside networks.internal`,
        });
      }
      if (id.pairs > 0) {
        evidence.push({
          signal: 'doh_shape_pairs', value: id.pairs, threshold: rule.minShapePairs,
          config_key: 'rules.doh.minShapePairs',
          detail: `request/response record pairs no larger than ${rule.maxDnsRecordBytes} ` +
            'bytes (rules.doh.maxDnsRecordBytes)',
        });
      }
      const last = plainDns.get(r.clientIp);
      const alsoPlain = last !== undefined && Math.abs(r.firstTs - last) <= cfg.TimeWindow;
      if (alsoPlain) {
        evidence.push({
          signal: 'doh_client_plain_dns', value: Math.round(Math.abs(r.firstTs - last) * 10) / 10,
          threshold: cfg.TimeWindow, config_key: 'TimeWindow',
          detail: `${r.clientIp} also sent plain DNS to port 53, this many seconds apart`,
        });
      }
      if (fromEsxi) {
        evidence.push({
          signal: 'esxi_management_client', value: r.clientIp, threshold: 'no DoH',
          config_key: 'assets.esxiManagement', detail: 'the client is an ESXi management address',
        });
      }
      const severity = fromEsxi ? 'high' : alsoPlain ? 'medium' : 'low';
      return {
        analytic: fromEsxi ? 'AN1486' : 'AN1485',
        detection: 'doh_unexpected_resolver',
        name: `DNS over HTTPS to unexpected resolver ${sni ?? r.serverIp}`,
        description: `${r.clientIp} speaks DoH (${id.how}) to ${r.serverIp}:${r.serverPort}, ` +
          'which ExpectedDoHResolvers does not list' +
          (fromEsxi ? '; the client is an ESXi management interface' : ''),
        severity,
        score: { low: 40, medium: 60, high: 85 }[severity],
        evidence,
      };
    },
  };
};
