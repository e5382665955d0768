// ICMP tunnels (ptunnel, icmpsh, hans, icmptunnel): a byte stream carried in echo data.
//
// Ping repeats itself: every request carries the same pattern apart from a timestamp, and
// every reply returns its request byte for byte (RFC 792, RFC 4443 section 4.2). A tunnel
// cannot: its requests change with the data they carry, and its replies bring the other
// direction's data instead of the request's. Those two facts decide; entropy, varying sizes
// and volume only add weight, because a large ping is high-entropy too (iputils fills it
// with a counting pattern that covers every byte value).

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { IPPROTO } from '../decode/packet';
import { Evidence } from '../output/ecs-schema';
import { Signal, SignalFactory } from './signal';

/** Score with the two deciding facts, and what each supporting fact adds. */
const BASE_SCORE = 55;
const SUPPORT_SCORE = 12;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function judgeIcmpTunnel(cfg: TunnelhoundConfig, input: Parameters<Signal['judge']>[0]):
  Detection | null {
  const rule = cfg.rules.icmpTunnel;
  const r = input.record;
  const e = r.icmpEcho;
  if (!rule.enabled || e === undefined) return null;
  if (r.ipProto !== IPPROTO.ICMP && r.ipProto !== IPPROTO.ICMPV6) return null;
  if (e.requests < rule.minEchoes) return null;
  const changed = e.changedRequests / Math.max(1, e.requests - 1);
  if (changed < rule.minChangedRatio) return null;
  const evidence: Evidence[] = [
    {
      signal: 'icmp_echo_count', value: e.requests, threshold: rule.minEchoes,
      config_key: 'rules.icmpTunnel.minEchoes',
      detail: `${e.requests} echo requests, ${e.replies} replies, ${e.dataBytes} echo data ` +
        'bytes in all',
    },
    {
      signal: 'icmp_payload_changed_ratio', value: round3(changed),
      threshold: rule.minChangedRatio, config_key: 'rules.icmpTunnel.minChangedRatio',
      detail: `${e.changedRequests} of ${e.requests - 1} requests carried other data than the ` +
        'request before them (first 16 bytes, a ping timestamp, left out)',
    },
  ];
  const unmatched = e.unmatchedReplies / Math.max(1, e.replies);
  const repliesCarryData = e.replies > 0 && unmatched >= rule.minUnmatchedReplyRatio;
  const varying = e.distinctSizes >= rule.minDistinctSizes;
  const entropy = Math.max(r.entropy[0], r.entropy[1]);
  const highEntropy = entropy >= cfg.PayloadEntropyThreshold;
  // Requests that change are one half of the picture; without replies that carry data or
  // sizes that vary, a changing payload is still just an odd pinger (a counter in the data).
  if (!repliesCarryData && !varying) return null;
  let score = BASE_SCORE;
  if (repliesCarryData) {
    score += SUPPORT_SCORE;
    evidence.push({
      signal: 'icmp_reply_unmatched_ratio', value: round3(unmatched),
      threshold: rule.minUnmatchedReplyRatio, config_key: 'rules.icmpTunnel.minUnmatchedReplyRatio',
      detail: `${e.unmatchedReplies} of ${e.replies} replies repeat none of the recent requests`,
    });
  }
  if (varying) {
    score += SUPPORT_SCORE;
    evidence.push({
      signal: 'icmp_echo_sizes', value: e.distinctSizes, threshold: rule.minDistinctSizes,
      config_key: 'rules.icmpTunnel.minDistinctSizes',
      detail: `${e.distinctSizes > 8 ? 'more than 8' : e.distinctSizes} distinct echo data ` +
        `sizes from ${e.minSize} to ${e.maxSize} bytes`,
    });
  }
  if (highEntropy) {
    score += SUPPORT_SCORE;
    evidence.push({
      signal: 'payload_entropy', value: entropy, threshold: cfg.PayloadEntropyThreshold,
      config_key: 'PayloadEntropyThreshold',
      detail: `echo data entropy ${entropy.toFixed(3)} bits/byte (client ${r.entropy[0]}, ` +
        `server ${r.entropy[1]}; samples ${r.entropySample[0]} and ${r.entropySample[1]} bytes)`,
    });
  }
  score = Math.min(95, Math.round(score));
  return {
    analytic: 'AN1484',
    detection: 'icmp_tunnel',
    name: 'Data carried in ICMP echo',
    description: `ICMP echo between ${r.clientIp} and ${r.serverIp} whose requests change ` +
      'from one to the next' + (repliesCarryData ? ' and whose replies carry other data' : '') +
      ': a stream tunnelled through ping, not ping',
    severity: score >= 75 ? 'high' : 'medium',
    score,
    evidence,
  };
}

export const icmpTunnelSignal: SignalFactory = (cfg) => ({
  name: 'icmp_tunnel',
  judge: (input) => judgeIcmpTunnel(cfg, input),
});
