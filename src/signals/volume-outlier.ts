// Volume outliers per server port (AN1484 "outlier volume"): a flow whose bytes sit far
// above what its port usually carries.
//
// Volume alone is no tunnel: a software update or a backup is large, and a bulk HTTPS
// download is exactly as asymmetric as an exfiltration. So this signal is gated the way the
// entropy rule is: it speaks only for bytes nobody could name (no protocol identified), where
// the size of the flow is all there is to go on. Identified traffic (TLS on 443, HTTP on 80)
// never raises it, however large.
//
// History per port is an exponentially weighted mean and variance of log10(payload bytes) of
// finished flows: bounded (MAX_PORTS keys, least recently seen evicted), O(1) per record,
// and adapting after EFFECTIVE_HISTORY flows. Log scale because flow sizes span decades.

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { IPPROTO } from '../decode/packet';
import { FlowRecord } from '../flow/flow-record';
import { flowProtocol, transportName } from '../output/ecs';
import { Evidence } from '../output/ecs-schema';
import { PROTO } from '../protocols/identify';
import { SignalFactory } from './signal';

/** Server ports with a history (a few dozen bytes each). */
export const MAX_PORTS = 8192;
/** Flows after which old history fades (the weight of a new flow stops shrinking). */
export const EFFECTIVE_HISTORY = 1000;
/**
 * Smallest spread (in log10 bytes) assumed for a port: a port whose flows all had the same
 * size would otherwise call a flow twice as large an outlier. 0.25 is a factor of 1.8.
 */
export const MIN_LOG_SD = 0.25;

interface PortStats {
  n: number;
  mean: number;
  variance: number;
}

interface Verdict {
  flowId: string;
  z: number;
  stats: PortStats;
}

export class VolumeHistory {
  private readonly ports = new Map<string, PortStats>();

  get size(): number {
    return this.ports.size;
  }

  /** The port's history before this flow is added (undefined when none). */
  get(key: string): PortStats | undefined {
    return this.ports.get(key);
  }

  add(key: string, x: number): void {
    let s = this.ports.get(key);
    if (s !== undefined) {
      this.ports.delete(key); // re-inserted below: most recently seen
    } else {
      if (this.ports.size >= MAX_PORTS) this.ports.delete(this.ports.keys().next().value as string);
      s = { n: 0, mean: 0, variance: 0 };
    }
    s.n++;
    const w = 1 / Math.min(s.n, EFFECTIVE_HISTORY);
    const d = x - s.mean;
    s.mean += w * d;
    // West's weighted update: exact running variance for w = 1/n, an EWMA beyond.
    s.variance = (1 - w) * (s.variance + w * d * d);
    this.ports.set(key, s);
  }
}

const log10Bytes = (r: FlowRecord) => Math.log10(1 + r.payloadBytes[0] + r.payloadBytes[1]);
const portKey = (r: FlowRecord) => `${transportName(r.ipProto)}/${r.serverPort}`;

export const volumeOutlierSignal: SignalFactory = (cfg: TunnelhoundConfig) => {
  const rule = cfg.rules.volumeOutlier;
  const history = new VolumeHistory();
  let verdict: Verdict | null = null;
  return {
    name: 'volume_outlier',
    observe: ({ record: r }) => {
      verdict = null;
      if (!rule.enabled || !r.final) return;
      if (r.ipProto !== IPPROTO.TCP && r.ipProto !== IPPROTO.UDP) return;
      const key = portKey(r);
      const x = log10Bytes(r);
      const s = history.get(key);
      if (s !== undefined && s.n >= rule.minHistory && flowProtocol(r) === PROTO.UNKNOWN) {
        const z = (x - s.mean) / Math.max(MIN_LOG_SD, Math.sqrt(s.variance));
        if (z >= rule.zThreshold) verdict = { flowId: r.flowId, z, stats: { ...s } };
      }
      history.add(key, x);
    },
    judge: ({ record: r }) => {
      if (verdict === null || verdict.flowId !== r.flowId) return null;
      return volumeDetection(cfg, r, verdict);
    },
  };
};

function volumeDetection(cfg: TunnelhoundConfig, r: FlowRecord, v: Verdict): Detection {
  const rule = cfg.rules.volumeOutlier;
  const total = r.payloadBytes[0] + r.payloadBytes[1];
  const typical = Math.round(10 ** v.stats.mean);
  const evidence: Evidence[] = [{
    signal: 'volume_outlier_z', value: Math.round(v.z * 100) / 100, threshold: rule.zThreshold,
    config_key: 'rules.volumeOutlier.zThreshold',
    detail: `${total} payload bytes on ${portKey(r)}, where the last ${v.stats.n} finished ` +
      `flows averaged about ${typical} bytes (log10 mean ${v.stats.mean.toFixed(2)}, sd ` +
      `${Math.sqrt(v.stats.variance).toFixed(2)}, at least ${MIN_LOG_SD} assumed)`,
  }, {
    signal: 'volume_outlier_history', value: v.stats.n, threshold: rule.minHistory,
    config_key: 'rules.volumeOutlier.minHistory',
    detail: 'finished flows the port\'s history is built from',
  }];
  const [up, down] = r.payloadBytes;
  const ratio = Math.max(up, down) / Math.max(1, Math.min(up, down));
  if (ratio >= cfg.DataAsymmetryThreshold) {
    evidence.push({
      signal: 'data_asymmetry', value: Math.round(ratio * 100) / 100,
      threshold: cfg.DataAsymmetryThreshold, config_key: 'DataAsymmetryThreshold',
      detail: `payload bytes client->server ${up}, server->client ${down}; duration ` +
        `${(r.lastTs - r.firstTs).toFixed(1)} s`,
    });
  }
  return {
    analytic: 'AN1484',
    detection: 'volume_outlier',
    name: `Unidentified flow far above the usual volume of ${portKey(r)}`,
    description: `${total} bytes nobody could name on ${portKey(r)}, ${v.z.toFixed(1)} ` +
      'standard deviations (log scale) above the port\'s history',
    severity: 'low',
    score: Math.min(60, 30 + Math.round(v.z * 3)),
    evidence,
  };
}
