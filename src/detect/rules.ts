// The first detections, each a pure function of a flow record and the config. Which analytic
// a rule reports under follows the seed: the one whose tunable element the rule uses.
//   protocol_port_mismatch    AN1484  ProtocolBaseline
//   cleartext_port_entropy    AN1484  PayloadEntropyThreshold (ports meant for cleartext)
//   ssh_asymmetric_long_lived AN1483  DataAsymmetryThreshold

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { PROTO, PROTO_NAMES } from '../protocols/identify';
import {
  allowsStartTls, expectedProtocols, isCleartextPort, surprise,
} from '../protocols/baseline';
import { flowProtocol, protoName, transportName } from '../output/ecs';
import { classifySshShape, SshSessionClass } from '../signals/ssh-session-shape';
import { Evidence } from '../output/ecs-schema';
import { byteShapeOfHex, looksRandom } from '../flow/features/byte-shape';
import { Detection } from './detection';

/** Session shapes under which an asymmetric SSH flow is not reported (issue 4). */
const BENIGN_SHAPES: ReadonlySet<SshSessionClass> = new Set(['file-copy', 'interactive']);

const SURPRISE_SEVERITY = ['low', 'low', 'medium', 'high'] as const;

/** Surprise of `proto` on the server port, with the config's ProtocolBaseline overriding. */
function surpriseOf(cfg: TunnelhoundConfig, r: FlowRecord, proto: number): number {
  const override = cfg.ProtocolBaseline[`${transportName(r.ipProto)}/${r.serverPort}`];
  if (override !== undefined) {
    if (override.includes(protoName(proto))) return 0;
    return Math.max(2, surprise(r.ipProto, r.serverPort, proto));
  }
  return surprise(r.ipProto, r.serverPort, proto);
}

function expectedText(cfg: TunnelhoundConfig, r: FlowRecord): string {
  const override = cfg.ProtocolBaseline[`${transportName(r.ipProto)}/${r.serverPort}`];
  const list = override ?? (expectedProtocols(r.ipProto, r.serverPort) ?? [])
    .map((c) => PROTO_NAMES[c]);
  return list.length > 0 ? list.join('|') : 'no baseline';
}

/** Payload of an SSH key exchange plus login, both directions, generously rounded up. */
export const SSH_HANDSHAKE_BYTES = 8192;
/** TLS records after the ClientHello that are still handshake (ChangeCipherSpec, Finished). */
const TLS_CLIENT_FINISH_BYTES = 128;

/**
 * Payload a flow carried beyond its handshake, for the protocols whose handshake alone is
 * harmless; null where the handshake itself is the finding (RDP, SMB, SOCKS, DNS...).
 */
export function carriedBytes(r: FlowRecord, proto: number): number | null {
  if (proto === PROTO.SSH) {
    return Math.max(0, r.payloadBytes[0] + r.payloadBytes[1] - SSH_HANDSHAKE_BYTES);
  }
  if (proto === PROTO.TLS) {
    // The first client record is the ClientHello; its length is in the record header
    // (RFC 8446 section 5.1: type, version, 16-bit length), which the kept head holds.
    const head = r.head[0];
    if (head.length < 10 || !head.startsWith('16')) return null;
    const helloRecord = 5 + parseInt(head.slice(6, 10), 16);
    return Math.max(0, r.payloadBytes[0] - helloRecord - TLS_CLIENT_FINISH_BYTES);
  }
  return null;
}

export function protocolPortMismatch(cfg: TunnelhoundConfig, r: FlowRecord): Detection | null {
  const rule = cfg.rules.protocolPortMismatch;
  const proto = flowProtocol(r);
  if (!rule.enabled || proto === PROTO.UNKNOWN) return null;
  if (proto === PROTO.TLS && allowsStartTls(r.ipProto, r.serverPort) &&
    r.identifiedAt[0] !== 1 && r.identifiedAt[1] !== 1) {
    // TLS that began after cleartext exchanges on an SMTP/IMAP/IRC-style port is the
    // port's own STARTTLS upgrade, not a disguise.
    return null;
  }
  const s = surpriseOf(cfg, r, proto);
  if (s < rule.minSurprise) return null;
  // A tunnel carries something. An SSH or TLS session on the wrong port that only shook
  // hands (a scan, a failed login, an aborted connection) moved no traffic through it.
  const carried = carriedBytes(r, proto);
  if (carried !== null && carried < rule.minCarriedBytes) return null;
  const name = protoName(proto);
  const where = `${transportName(r.ipProto)}/${r.serverPort}`;
  const agreed = r.protoByDir[0] === r.protoByDir[1] ? 'both directions' : 'one direction';
  return {
    analytic: 'AN1484',
    detection: 'protocol_port_mismatch',
    name: `${name.toUpperCase()} on ${where}`,
    description: `${name} identified from the payload bytes (${agreed}) on ${where}, ` +
      `where the port baseline expects ${expectedText(cfg, r)}`,
    severity: SURPRISE_SEVERITY[s],
    score: [0, 30, 60, 90][s],
    evidence: [{
      signal: 'protocol_port_mismatch',
      value: `${name} on ${where}`,
      threshold: `expected ${expectedText(cfg, r)}`,
      config_key: 'ProtocolBaseline',
      detail: `surprise ${s} of 3 (minimum to alert ${rule.minSurprise}); identified in ` +
        `${agreed}`,
    }, ...(carried === null ? [] : [{
      signal: 'carried_bytes',
      value: carried,
      threshold: rule.minCarriedBytes,
      config_key: 'rules.protocolPortMismatch.minCarriedBytes',
      detail: `payload bytes beyond the ${name} handshake ` +
        (proto === PROTO.TLS ? '(client bytes after its ClientHello)'
          : `(both directions beyond ${SSH_HANDSHAKE_BYTES} bytes)`),
    }])],
  };
}

/** Ports whose cleartext is text (HTTP, SMTP, IRC...), not binary (DNS, NetBIOS). */
function isTextPort(r: FlowRecord): boolean {
  return !(expectedProtocols(r.ipProto, r.serverPort) ?? []).includes(PROTO.DNS);
}

export function cleartextPortEntropy(cfg: TunnelhoundConfig, r: FlowRecord): Detection | null {
  const rule = cfg.rules.cleartextEntropy;
  // A protocol that was identified is judged by the mismatch rule instead; entropy speaks
  // only for bytes nobody could name, on a port meant for cleartext.
  if (!rule.enabled || flowProtocol(r) !== PROTO.UNKNOWN) return null;
  if (!isCleartextPort(r.ipProto, r.serverPort)) return null;
  const evidence: Evidence[] = [];
  const sides = ['client', 'server'] as const;
  let sidesHit = 0;
  for (let d = 0; d < 2; d++) {
    const h = r.entropy[d];
    const n = r.entropySample[d];
    if (n < rule.minSampleBytes) {
      // Too few bytes for entropy: on a text port, the head's byte shape still tells text
      // from random bytes (src/flow/features/byte-shape.ts).
      const shape = isTextPort(r) ? shapeEvidence(rule, r.head[d], sides[d]) : [];
      if (shape.length > 0) sidesHit++;
      evidence.push(...shape);
      continue;
    }
    if (h < cfg.PayloadEntropyThreshold) continue;
    sidesHit++;
    evidence.push({
      signal: 'payload_entropy',
      value: h,
      threshold: cfg.PayloadEntropyThreshold,
      config_key: 'PayloadEntropyThreshold',
      detail: `${sides[d]} payload: ${h.toFixed(3)} bits/byte over a ${n}-byte sample ` +
        `(small-sample corrected; minimum sample ${rule.minSampleBytes})`,
    });
  }
  if (evidence.length === 0) return null;
  const where = `${transportName(r.ipProto)}/${r.serverPort}`;
  return {
    analytic: 'AN1484',
    detection: 'cleartext_port_entropy',
    name: `Encrypted-looking bytes on cleartext port ${where}`,
    description: `unidentified payload on ${where}, a port baselined for cleartext, has the ` +
      'entropy of ciphertext or compressed data',
    severity: sidesHit === 2 ? 'high' : 'medium',
    score: sidesHit === 2 ? 80 : 60,
    evidence,
  };
}

type EntropyRule = TunnelhoundConfig['rules']['cleartextEntropy'];

/** Evidence from a short head that looks random: printable share, bit density, distinct. */
function shapeEvidence(rule: EntropyRule, head: string, side: string): Evidence[] {
  const s = byteShapeOfHex(head);
  if (s === null || s.bytes < rule.minShapeBytes || !looksRandom(s, rule.maxPrintableRatio)) {
    return [];
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return [{
    signal: 'head_sample_bytes',
    value: s.bytes,
    threshold: rule.minShapeBytes,
    config_key: 'rules.cleartextEntropy.minShapeBytes',
    detail: `${side} head bytes the byte-shape test used`,
  }, {
    signal: 'printable_ratio',
    value: r3(s.printableRatio),
    threshold: rule.maxPrintableRatio,
    config_key: 'rules.cleartextEntropy.maxPrintableRatio',
    detail: `${side} head of ${s.bytes} bytes (too short for entropy): printable share ` +
      `${r3(s.printableRatio)} at most ${rule.maxPrintableRatio} (random bytes ~0.383, ` +
      `text ~1); bit density ${r3(s.bitDensity)} within ${r3(s.densityTolerance)} of 0.5; ` +
      `${s.distinct} distinct byte values of ~${s.expectedDistinct.toFixed(0)} for random`,
  }];
}

export function sshAsymmetry(cfg: TunnelhoundConfig, r: FlowRecord): Detection | null {
  const rule = cfg.rules.sshAsymmetry;
  if (!rule.enabled || flowProtocol(r) !== PROTO.SSH) return null;
  // A long scp or a shell printing a big log is asymmetric too: when the session's shape
  // says file copy or a person typing, asymmetry alone is no sign of a tunnel.
  const shape = cfg.rules.sshSessionShape.enabled ? classifySshShape(cfg, r.sshShape) : undefined;
  if (shape !== undefined && BENIGN_SHAPES.has(shape.cls)) return null;
  const duration = r.lastTs - r.firstTs;
  const [up, down] = r.payloadBytes;
  const total = up + down;
  if (duration < rule.minDurationSec || total < rule.minPayloadBytes) return null;
  const ratio = Math.max(up, down) / Math.max(1, Math.min(up, down));
  if (ratio < cfg.DataAsymmetryThreshold) return null;
  const heavy = down >= up ? 'server to client' : 'client to server';
  return {
    analytic: 'AN1483',
    detection: 'ssh_asymmetric_long_lived',
    name: 'Long-lived, strongly asymmetric SSH flow',
    description: `SSH flow of ${duration.toFixed(0)} s moving ${total} payload bytes, ` +
      `${ratio.toFixed(1)}x more ${heavy}: the shape of a forwarded bulk transfer`,
    severity: 'medium',
    score: Math.min(90, 50 + Math.round(ratio)),
    evidence: [
      {
        signal: 'data_asymmetry', value: Math.round(ratio * 100) / 100,
        threshold: cfg.DataAsymmetryThreshold, config_key: 'DataAsymmetryThreshold',
        detail: `payload bytes client->server ${up}, server->client ${down}`,
      },
      {
        signal: 'flow_duration', value: Math.round(duration * 1000) / 1000,
        threshold: rule.minDurationSec, config_key: 'rules.sshAsymmetry.minDurationSec',
        detail: 'seconds from first to last packet',
      },
      {
        signal: 'flow_payload_bytes', value: total, threshold: rule.minPayloadBytes,
        config_key: 'rules.sshAsymmetry.minPayloadBytes',
        detail: 'payload bytes in both directions',
      },
    ],
  };
}

export const RULES = [protocolPortMismatch, cleartextPortEntropy, sshAsymmetry] as const;
