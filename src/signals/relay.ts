// Relays: a host that accepts a connection and opens another one carrying the same bytes.
// socat TCP-LISTEN...fork, netsh interface portproxy, stunnel and sshd -L/-R forwarding on a
// pivot host all look alike on the wire: an inbound flow to host H, and an outbound flow
// from H that starts a moment later, ends with it, and moves the same bytes each way (plus
// TLS framing when one side is wrapped, as with stunnel).
//
// A pivot is often dual-homed: the inbound leg reaches one of its addresses and the outbound
// leg leaves from another, and nothing in a flow record ties the two addresses together. So
// legs are indexed by volume, not by host: recent flows of at least minPayloadBytes sit in
// buckets of half an octave of payload bytes, each bucket a ring of LEGS_PER_BUCKET, and a
// record is compared with the legs of its own and the two neighbouring buckets: at most
// 3 x LEGS_PER_BUCKET comparisons, memory at most BUCKETS x LEGS_PER_BUCKET legs. When the
// two legs do not share the relay address, both relay addresses must be internal
// (networks.internal): two hosts downloading the same file from two mirrors at once are not
// a relay.
//
// A pair is found when its second leg is reported, so the alert goes on that leg (inbound
// or outbound, whichever the sensor finishes second) and names the other leg's 5-tuple.
// gap: the alert cannot move to the inbound leg once that one was reported: the engine
// judges one record at a time (src/detect/engine.ts).

import { CidrSet } from '../config/cidr';
import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { IPPROTO } from '../decode/packet';
import { FlowRecord } from '../flow/flow-record';
import { flowProtocol, protoName, transportName } from '../output/ecs';
import { PROTO } from '../protocols/identify';
import { Signal, SignalFactory } from './signal';

/** Recent legs remembered per volume bucket. */
export const LEGS_PER_BUCKET = 64;
/** Buckets per doubling of payload bytes (2: each bucket spans a factor of 1.41). */
const BUCKETS_PER_OCTAVE = 2;
/** Payload byte counts stay below 2^53, so there are at most this many buckets. */
export const BUCKETS = 53 * BUCKETS_PER_OCTAVE + 1;
/**
 * Bytes one direction of the two legs may differ by beyond the relative tolerance: a TLS
 * handshake (ClientHello, certificate chain) on the wrapped leg only, as stunnel adds.
 */
export const ABS_SLACK_BYTES = 4096;

interface Leg {
  flowId: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  ipProto: number;
  firstTs: number;
  lastTs: number;
  bytes: [number, number];
  proto: number;
}

interface Match {
  inbound: Leg;
  outbound: Leg;
  startGap: number;
  endGap: number;
  byteDiff: number;
}

function legOf(r: FlowRecord): Leg {
  return {
    flowId: r.flowId, clientIp: r.clientIp, clientPort: r.clientPort, serverIp: r.serverIp,
    serverPort: r.serverPort, ipProto: r.ipProto, firstTs: r.firstTs, lastTs: r.lastTs,
    bytes: [r.payloadBytes[0], r.payloadBytes[1]], proto: flowProtocol(r),
  };
}

function tuple(l: Leg): string {
  return `${transportName(l.ipProto)} ${l.clientIp}:${l.clientPort} -> ` +
    `${l.serverIp}:${l.serverPort}`;
}

/** Relative difference of two byte counts after the absolute slack, 0 when within it. */
function relDiff(a: number, b: number): number {
  const d = Math.abs(a - b) - ABS_SLACK_BYTES;
  return d <= 0 ? 0 : d / Math.max(a, b);
}

export class RelayTracker {
  private readonly buckets: Leg[][] = Array.from({ length: BUCKETS }, () => []);
  private readonly allowed: CidrSet;
  private readonly internal: CidrSet;
  private last: { flowId: string; match: Match } | null = null;

  constructor(private readonly cfg: TunnelhoundConfig) {
    this.allowed = new CidrSet(cfg.rules.relay.allowedRelays);
    this.internal = new CidrSet(cfg.networks.internal);
  }

  /** Legs held now (for tests of the bound). */
  get legCount(): number {
    return this.buckets.reduce((n, b) => n + b.length, 0);
  }

  observe(r: FlowRecord): void {
    this.last = null;
    const rule = this.cfg.rules.relay;
    if (!rule.enabled) return;
    if (r.ipProto !== IPPROTO.TCP && r.ipProto !== IPPROTO.UDP) return;
    const total = r.payloadBytes[0] + r.payloadBytes[1];
    if (!(total >= rule.minPayloadBytes) || !Number.isFinite(total)) return; // NaN too
    const leg = legOf(r);
    const b = Math.min(BUCKETS - 1, Math.floor(Math.log2(total) * BUCKETS_PER_OCTAVE));
    const horizon = r.lastTs - this.cfg.TimeWindow;
    let match: Match | null = null;
    for (let i = Math.max(0, b - 1); i <= Math.min(BUCKETS - 1, b + 1) && match === null; i++) {
      for (const other of this.buckets[i]) {
        if (other.flowId === leg.flowId || other.lastTs < horizon) continue;
        match = this.pair(other, leg) ?? this.pair(leg, other);
        if (match !== null) break;
      }
    }
    remember(this.buckets, b, leg, horizon);
    if (match !== null) this.last = { flowId: r.flowId, match };
  }

  /** The match found for this record by observe(), if any. */
  matchFor(r: FlowRecord): Match | null {
    return this.last !== null && this.last.flowId === r.flowId ? this.last.match : null;
  }

  private pair(inb: Leg, out: Leg): Match | null {
    const rule = this.cfg.rules.relay;
    // The relay is the inbound leg's server and the outbound leg's client.
    if (this.allowed.contains(inb.serverIp) || this.allowed.contains(out.clientIp)) return null;
    // The same client opening two flows, or two clients of one server, is no relay; back to
    // the peer that connected is a callback (FTP active mode, ident).
    if (out.clientIp === inb.clientIp || out.serverIp === inb.serverIp ||
      out.serverIp === inb.clientIp) {
      return null;
    }
    if (inb.serverIp !== out.clientIp &&
      !(this.internal.contains(inb.serverIp) && this.internal.contains(out.clientIp))) {
      return null;
    }
    const startGap = out.firstTs - inb.firstTs;
    if (startGap < 0 || startGap > rule.maxStartGapSec) return null;
    const endGap = Math.abs(out.lastTs - inb.lastTs);
    if (endGap > rule.maxEndGapSec) return null;
    const byteDiff = Math.max(relDiff(inb.bytes[0], out.bytes[0]),
      relDiff(inb.bytes[1], out.bytes[1]));
    if (byteDiff > rule.byteTolerance) return null;
    return { inbound: inb, outbound: out, startGap, endGap, byteDiff };
  }
}

/** Store or refresh a leg in its bucket, dropping legs past the horizon and the oldest. */
function remember(buckets: Leg[][], b: number, leg: Leg, horizon: number): void {
  // A later report of the same flow may have moved it to another bucket.
  for (let i = Math.max(0, b - 2); i <= Math.min(BUCKETS - 1, b + 2); i++) {
    const legs = buckets[i];
    for (let j = legs.length - 1; j >= 0; j--) {
      if (legs[j].flowId === leg.flowId || legs[j].lastTs < horizon) legs.splice(j, 1);
    }
  }
  const legs = buckets[b];
  if (legs.length >= LEGS_PER_BUCKET) legs.shift();
  legs.push(leg);
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function relayDetection(cfg: TunnelhoundConfig, r: FlowRecord, m: Match): Detection {
  const rule = cfg.rules.relay;
  const here = r.flowId === m.inbound.flowId ? 'inbound' : 'outbound';
  const other = here === 'inbound' ? m.outbound : m.inbound;
  const host = m.inbound.serverIp === m.outbound.clientIp ? m.inbound.serverIp
    : `${m.inbound.serverIp} (leaving as ${m.outbound.clientIp})`;
  const wrapped = (m.inbound.proto === PROTO.TLS) !== (m.outbound.proto === PROTO.TLS);
  const what = wrapped ? ' (TLS on one leg only: the relay wraps or unwraps it, as stunnel)' : '';
  const legs = `inbound ${tuple(m.inbound)} (${protoName(m.inbound.proto)}), outbound ` +
    `${tuple(m.outbound)} (${protoName(m.outbound.proto)})`;
  return {
    analytic: 'AN1484',
    detection: 'relay',
    name: `Host ${host} relays ${protoName(m.inbound.proto)} to ${m.outbound.serverIp}:` +
      `${m.outbound.serverPort}`,
    description: `${host} accepted a flow and opened another that started ` +
      `${m.startGap.toFixed(3)} s later, ended with it and moved the same bytes each way` +
      `${what}: a port relay (socat, portproxy, stunnel, ssh forwarding). This is the ` +
      `${here} leg; the other is ${tuple(other)}`,
    severity: wrapped ? 'high' : 'medium',
    score: wrapped ? 80 : 70,
    evidence: [
      {
        signal: 'flow_payload_bytes',
        value: Math.min(m.inbound.bytes[0] + m.inbound.bytes[1],
          m.outbound.bytes[0] + m.outbound.bytes[1]),
        threshold: rule.minPayloadBytes, config_key: 'rules.relay.minPayloadBytes',
        detail: 'payload bytes of the smaller leg',
      },
      {
        signal: 'relay_start_gap', value: round3(m.startGap), threshold: rule.maxStartGapSec,
        config_key: 'rules.relay.maxStartGapSec',
        detail: `seconds from the inbound leg's first packet to the outbound leg's; ${legs}`,
      },
      {
        signal: 'relay_end_gap', value: round3(m.endGap), threshold: rule.maxEndGapSec,
        config_key: 'rules.relay.maxEndGapSec',
        detail: 'seconds between the two legs\' last packets',
      },
      {
        signal: 'relay_byte_difference', value: round3(m.byteDiff),
        threshold: rule.byteTolerance, config_key: 'rules.relay.byteTolerance',
        detail: `payload bytes inbound ${m.inbound.bytes[0]}/${m.inbound.bytes[1]}, ` +
          `outbound ${m.outbound.bytes[0]}/${m.outbound.bytes[1]} (to/from the server); ` +
          `relative difference beyond ${ABS_SLACK_BYTES} bytes of handshake slack`,
      },
    ],
  };
}

export const relaySignal: SignalFactory = (cfg): Signal => {
  const tracker = new RelayTracker(cfg);
  return {
    name: 'relay',
    observe: ({ record }) => tracker.observe(record),
    judge: ({ record }) => {
      const m = tracker.matchFor(record);
      return m === null ? null : relayDetection(cfg, record, m);
    },
  };
};
