// DNS tunnels (AN1485; AN1486 from an ESXi management address): data carried in query
// names under one domain the tunnel operator controls. Judged per client and registered
// domain over TimeWindow, because a stub resolver opens a new UDP flow per query (dnscat2,
// DNSExfiltrator) while iodine keeps one socket: the per-flow summaries
// (src/flow/features/dns.ts) are merged, distinct-name sketches by bitwise OR.
//
// Fires when either
//   - many distinct names whose subdomain part is long on average (the volume of encoded
//     chunks: rules.dnsTunnel.minDistinctNames and minMeanSubdomainBytes), or
//   - one name whose subdomain part is both very long and high-entropy (a single-shot
//     exfiltration: minEncodedSubdomainBytes and minEntropy).
// Record types favoured by tunnels (NULL, TXT, ANY, and CNAME/MX volume) and query volume
// are reported as supporting evidence and raise the severity, never fire alone.

import { TunnelhoundConfig } from '../config/defaults';
import { CidrSet } from '../config/cidr';
import { Detection } from '../detect/detection';
import { DNS_SKETCH_BITS, DnsFlowSummary, sketchEstimate } from '../flow/features/dns';
import { FlowRecord } from '../flow/flow-record';
import { Evidence } from '../output/ecs-schema';
import { Signal, SignalFactory } from './signal';

/** Client+domain pairs remembered at once; the oldest go first past this. */
export const DNS_TUNNEL_MAX_KEYS = 20_000;
/** Fewest folds between sweeps of idle windows. */
export const DNS_TUNNEL_SWEEP_EVERY = 1024;
/** Only flows to the DNS port are judged: mDNS, LLMNR and NBNS never reach a tunnel server. */
const DNS_PORT = 53;
/** Share of NULL/TXT/ANY questions above which the type mix counts as supporting evidence. */
const ODD_TYPE_SHARE = 0.5;

interface DomainState {
  first: number;
  last: number;
  queries: number;
  subBytes: number;
  sketch: Uint32Array;
  /** Flows whose records were folded in, so an active re-report is not counted twice. */
  seen: Map<string, [number, number]>;
}

function zeroBits(sketch: Uint32Array): number {
  let zero = 0;
  for (const w of sketch) {
    let x = w;
    let ones = 0;
    while (x !== 0) {
      x &= x - 1;
      ones++;
    }
    zero += 32 - ones;
  }
  return zero;
}

function oddTypeShare(d: DnsFlowSummary): number {
  const t = d.types;
  const all = t.a + t.aaaa + t.txt + t.null + t.cname + t.mx + t.any + t.other;
  return all === 0 ? 0 : (t.null + t.txt + t.any + t.cname + t.mx) / all;
}

export const dnsTunnelSignal: SignalFactory = (cfg: TunnelhoundConfig): Signal => {
  const rule = cfg.rules.dnsTunnel;
  const esxi = new CidrSet(cfg.assets.esxiManagement.map((a) => a.address));
  const ignore = new Set(rule.ignoreDomains.map((d) => d.toLowerCase()));
  // Insertion order is window-start order. Keys are not re-inserted on update: a Map that
  // is deleted from and re-added to on every flow keeps its holes at the front, and walking
  // them from the start cost 3 us per DNS flow on the many-flows bench (16 % of the run).
  const keys = new Map<string, DomainState>();
  let foldsSinceSweep = 0;

  /**
   * Forget windows idle for TimeWindow, every DNS_TUNNEL_SWEEP_EVERY folds (a stale entry
   * in between is harmless: fold() restarts a window older than TimeWindow). Past the
   * bound the oldest windows go, down to nine tenths of it so that a full table does not
   * sweep on every fold.
   */
  function expire(now: number): void {
    // A sweep walks every key: spacing sweeps by a quarter of the size keeps the walk O(1)
    // per fold however many clients there are.
    const every = Math.max(DNS_TUNNEL_SWEEP_EVERY, keys.size >>> 2);
    if (++foldsSinceSweep < every && keys.size <= DNS_TUNNEL_MAX_KEYS) return;
    foldsSinceSweep = 0;
    for (const [k, s] of keys) {
      if (now - s.last > cfg.TimeWindow) keys.delete(k);
    }
    if (keys.size <= DNS_TUNNEL_MAX_KEYS) return;
    const keep = Math.floor(DNS_TUNNEL_MAX_KEYS * 0.9);
    for (const k of keys.keys()) {
      if (keys.size <= keep) break;
      keys.delete(k);
    }
  }

  function fold(r: FlowRecord): void {
    const dns = r.dns;
    if (dns === undefined || r.serverPort !== DNS_PORT) return;
    for (const d of dns.domains) {
      if (d.domain === '' || ignore.has(d.domain)) continue;
      const key = `${r.clientIp} ${d.domain}`;
      let s = keys.get(key);
      if (s !== undefined && r.lastTs - s.first > cfg.TimeWindow) {
        keys.delete(key); // a new window starts
        s = undefined;
      }
      if (s === undefined) {
        s = { first: r.firstTs, last: r.lastTs, queries: 0, subBytes: 0,
          sketch: new Uint32Array(DNS_SKETCH_BITS / 32), seen: new Map() };
        keys.set(key, s);
      }
      // A flow reported again (active timeout) replaces its earlier contribution; only
      // flows still alive are remembered, so the map holds at most the live flows.
      const before = s.seen.get(r.flowId);
      const subBytes = d.meanSubdomainBytes * d.queries;
      s.queries += d.queries - (before?.[0] ?? 0);
      s.subBytes += subBytes - (before?.[1] ?? 0);
      if (r.final) s.seen.delete(r.flowId);
      else s.seen.set(r.flowId, [d.queries, subBytes]);
      for (let i = 0; i < s.sketch.length; i++) s.sketch[i] |= d.sketch[i] >>> 0;
      s.last = Math.max(s.last, r.lastTs);
    }
    expire(r.lastTs);
  }

  return {
    name: 'dns_tunnel',
    observe({ record }) {
      if (rule.enabled) fold(record);
    },
    judge({ record: r }) {
      const dns = r.dns;
      if (!rule.enabled || dns === undefined || r.serverPort !== DNS_PORT) return null;
      const evidence: Evidence[] = [];
      let domain = '';
      for (const d of dns.domains) {
        if (d.domain === '' || ignore.has(d.domain)) continue;
        const s = keys.get(`${r.clientIp} ${d.domain}`);
        if (s === undefined) continue;
        const distinct = sketchEstimate(zeroBits(s.sketch), DNS_SKETCH_BITS);
        const meanSub = s.queries === 0 ? 0 : s.subBytes / s.queries;
        if (distinct >= rule.minDistinctNames && meanSub >= rule.minMeanSubdomainBytes) {
          domain = d.domain;
          evidence.push({
            signal: 'dns_distinct_names', value: distinct, threshold: rule.minDistinctNames,
            config_key: 'rules.dnsTunnel.minDistinctNames',
            detail: `distinct names under ${d.domain} from ${r.clientIp} within TimeWindow ` +
              `(${cfg.TimeWindow} s), ${s.queries} queries`,
          }, {
            signal: 'dns_mean_subdomain_bytes', value: Math.round(meanSub * 10) / 10,
            threshold: rule.minMeanSubdomainBytes,
            config_key: 'rules.dnsTunnel.minMeanSubdomainBytes',
            detail: `mean length of the part under ${d.domain}, in bytes`,
          });
          break;
        }
      }
      for (const d of dns.domains) {
        if (evidence.length > 0 || d.domain === '' || ignore.has(d.domain)) continue;
        if (d.maxSubdomainBytes >= rule.minEncodedSubdomainBytes &&
          d.subdomainEntropy >= rule.minEntropy) {
          domain = d.domain;
          evidence.push({
            signal: 'dns_encoded_subdomain', value: d.maxSubdomainBytes,
            threshold: rule.minEncodedSubdomainBytes,
            config_key: 'rules.dnsTunnel.minEncodedSubdomainBytes',
            detail: `longest part under ${d.domain}, in bytes`,
          }, {
            signal: 'dns_label_entropy', value: d.subdomainEntropy, threshold: rule.minEntropy,
            config_key: 'rules.dnsTunnel.minEntropy',
            detail: 'mean Shannon entropy (bits/byte) of the long subdomain parts',
          });
        }
      }
      if (evidence.length === 0 && dns.distinctNames >= rule.minDistinctNames &&
        dns.meanSubdomainBytes >= rule.minMeanSubdomainBytes &&
        dns.domains.some((d) => d.domain !== '' && !ignore.has(d.domain))) {
        // One flow alone can show the volume when the names have no real top-level domain
        // (dnscat2 without a domain: every name "registers" somewhere else).
        domain = `${dns.domains.length}+ domains`;
        evidence.push({
          signal: 'dns_distinct_names', value: dns.distinctNames, threshold: rule.minDistinctNames,
          config_key: 'rules.dnsTunnel.minDistinctNames',
          detail: `distinct names in this flow (${dns.queries} queries), across domains`,
        }, {
          signal: 'dns_mean_subdomain_bytes', value: dns.meanSubdomainBytes,
          threshold: rule.minMeanSubdomainBytes,
          config_key: 'rules.dnsTunnel.minMeanSubdomainBytes',
          detail: 'mean length of the part under the registered domain, in bytes',
        });
      }
      if (evidence.length === 0) return null;
      const odd = oddTypeShare(dns);
      if (odd >= ODD_TYPE_SHARE) {
        const t = dns.types;
        evidence.push({
          signal: 'dns_record_types', value: Math.round(odd * 100) / 100,
          threshold: ODD_TYPE_SHARE, config_key: 'rules.dnsTunnel',
          detail: `share of NULL/TXT/ANY/CNAME/MX questions in the flow (NULL ${t.null}, ` +
            `TXT ${t.txt}, CNAME ${t.cname}, MX ${t.mx}, ANY ${t.any}, A ${t.a}, ` +
            `AAAA ${t.aaaa}); fixed share, not tunable`,
        });
      }
      const fromEsxi = esxi.contains(r.clientIp);
      const severity = fromEsxi || evidence.length > 2 ? 'high' : 'medium';
      return {
        analytic: fromEsxi ? 'AN1486' : 'AN1485',
        detection: 'dns_tunnel',
        name: `DNS tunnel under ${domain}`,
        description: `query names under ${domain} from ${r.clientIp} carry encoded data: ` +
          `long, distinct, high-entropy subdomains` +
          (fromEsxi ? ' (from an ESXi management address)' : ''),
        severity,
        score: severity === 'high' ? 85 : 70,
        evidence,
      };
    },
  };
};
