// Builds ECS documents (see ecs-schema.ts) from flow records and detections.

import { createHash } from 'node:crypto';
import { FlowRecord } from '../flow/flow-record';
import { PROTO, PROTO_NAMES } from '../protocols/identify';
import { Verdict } from '../analytics/verdict';
import { ecsFingerprints } from './ecs-fingerprints';
import { EcsDocument } from './ecs-schema';
import { EndpointMatch } from '../endpoint/event';
import { ecsEndpointFields } from './ecs-endpoint';

/** IANA protocol numbers to the ECS `network.transport` names. */
const TRANSPORT_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp' };

const SEVERITY = { low: 21, medium: 47, high: 73 } as const;

export function transportName(ipProto: number): string {
  return TRANSPORT_NAMES[ipProto] ?? String(ipProto);
}

export function protoName(code: number): string {
  return PROTO_NAMES[code] ?? 'unknown';
}

/**
 * The protocol of a flow: what the directions identified, if they do not contradict. A
 * client proxy handshake (SOCKS) answered by the session it opened (the server's TLS) is the
 * proxy's flow: the carrier is what the port baseline judges.
 */
export function flowProtocol(r: FlowRecord): number {
  const [c, s] = r.protoByDir;
  if (c !== 0 && s !== 0 && c !== s) {
    return c === PROTO.SOCKS4 || c === PROTO.SOCKS5 ? c : PROTO.UNKNOWN;
  }
  return c !== 0 ? c : s;
}

function iso(ts: number): string {
  return new Date(Math.floor(ts * 1000)).toISOString();
}

/** 32 hex characters of SHA-256: stable across runs for the same flow and detection. */
function stableId(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32);
}

function base(r: FlowRecord, kind: 'alert' | 'event', id: string): EcsDocument {
  const proto = flowProtocol(r);
  const doc: EcsDocument = {
    '@timestamp': iso(r.lastTs),
    event: {
      kind, category: ['network'],
      type: kind === 'alert' ? ['connection'] : [r.final ? 'end' : 'info'],
      id,
      dataset: kind === 'alert' ? 'tunnelhound.alert' : 'tunnelhound.flow',
      module: 'tunnelhound',
      start: iso(r.firstTs),
      end: iso(r.lastTs),
      duration: Math.max(0, Math.round((r.lastTs - r.firstTs) * 1e9)),
    },
    source: { ip: r.clientIp, port: r.clientPort, bytes: r.bytes[0], packets: r.packets[0] },
    destination: { ip: r.serverIp, port: r.serverPort, bytes: r.bytes[1], packets: r.packets[1] },
    network: {
      transport: transportName(r.ipProto),
      iana_number: String(r.ipProto),
      protocol: protoName(proto),
      bytes: r.bytes[0] + r.bytes[1],
      packets: r.packets[0] + r.packets[1],
    },
    tunnelhound: {
      flow: {
        id: r.flowId,
        history: r.history,
        end_reason: r.reason,
        final: r.final,
        report_seq: r.reportSeq,
        payload_bytes: { client: r.payloadBytes[0], server: r.payloadBytes[1] },
        protocol_by_direction: {
          client: protoName(r.protoByDir[0]), server: protoName(r.protoByDir[1]),
        },
        entropy: { client: r.entropy[0], server: r.entropy[1] },
        entropy_sample_bytes: { client: r.entropySample[0], server: r.entropySample[1] },
        head_hex: { client: r.head[0], server: r.head[1] },
      },
    },
  };
  if (r.vlan >= 0) doc.network.vlan = { id: String(r.vlan) };
  if (r.encapsulation !== undefined) doc.tunnelhound.flow.encapsulation = r.encapsulation;
  const e = r.icmpEcho;
  if (e !== undefined) {
    doc.tunnelhound.flow.icmp_echo = {
      requests: e.requests, replies: e.replies, min_size: e.minSize, max_size: e.maxSize,
      distinct_sizes: e.distinctSizes, changed_requests: e.changedRequests,
      unmatched_replies: e.unmatchedReplies, data_bytes: e.dataBytes,
    };
  }
  const fp = ecsFingerprints(r.fingerprints);
  if (fp.tls) doc.tls = fp.tls;
  if (fp.thTls) doc.tunnelhound.tls = fp.thTls;
  if (fp.thSsh) doc.tunnelhound.ssh = fp.thSsh;
  return doc;
}

/** The flow's identity for ids: endpoints, transport and first-packet time. */
function flowIdentity(r: FlowRecord): string {
  return [r.clientIp, r.clientPort, r.serverIp, r.serverPort, r.ipProto, r.firstTs].join(',');
}

export function flowDocument(r: FlowRecord): EcsDocument {
  return base(r, 'event', stableId('flow', flowIdentity(r), r.reportSeq));
}

/**
 * The alert for a verdict. Its id depends on the flow and the analytic only, so an update of
 * a long flow's verdict replaces the earlier document in a SIEM that keys on event.id.
 */
export function alertDocument(r: FlowRecord, v: Verdict, m?: EndpointMatch): EcsDocument {
  const d = v.primary;
  const doc = base(r, 'alert', stableId('alert', flowIdentity(r), v.analytic));
  doc.event.severity = SEVERITY[v.severity];
  doc.event.action = v.update === 0 ? 'tunnel-detected' : 'tunnel-updated';
  const others = v.detections.slice(1).map((o) => o.name);
  doc.rule = {
    id: v.analytic, name: d.name, ruleset: 'DET0538',
    description: others.length === 0 ? d.description
      : `${d.description}; also: ${others.join('; ')}`,
  };
  doc.threat = {
    framework: 'MITRE ATT&CK',
    technique: {
      id: ['T1572'], name: ['Protocol Tunneling'],
      reference: ['https://attack.mitre.org/techniques/T1572/'],
    },
    tactic: { id: ['TA0011'], name: ['Command and Control'] },
  };
  doc.tunnelhound.detection = d.detection;
  doc.tunnelhound.detections = v.detections.map((o) => o.detection);
  doc.tunnelhound.severity_label = v.severity;
  doc.tunnelhound.score = v.score;
  doc.tunnelhound.alert_update = v.update;
  // The endpoint's evidence (forwarding_flags, allowed_tool) joins every detection of the
  // flow; the alert lists each piece once.
  const seen = new Set<string>();
  doc.tunnelhound.evidence = v.detections.flatMap((o) => o.evidence).filter((e) => {
    const key = `${e.signal}|${e.value}|${e.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (m !== undefined) {
    const f = ecsEndpointFields(m);
    doc.process = f.process;
    doc.host = f.host;
    if (f.user !== undefined) doc.user = f.user;
    doc.tunnelhound.endpoint = f.endpoint;
  }
  return doc;
}
