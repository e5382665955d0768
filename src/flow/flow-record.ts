import { FlowFingerprints } from '../fingerprints/types';

// The flow event a shard worker sends to the correlator: small, typed, structured-clonable.
// "client" is the originator (the side that sent the SYN, or the best guess when the capture
// started mid-flow); index 0 of every pair is client-to-server, index 1 server-to-client.

/** Why a record was emitted. `active` records are interim reports on flows still alive. */
export type FlowEndReason = 'idle' | 'closed' | 'evicted' | 'active' | 'flush';

export interface FlowRecord {
  /** Stable id of the flow within this run: shard, slot generation and first timestamp. */
  flowId: string;
  /** 0 for the first report of a flow, then 1, 2... for later active/final reports. */
  reportSeq: number;
  final: boolean;
  reason: FlowEndReason;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** IP protocol number (6, 17, 1, 58...). */
  ipProto: number;
  /** Outermost VLAN id, or -1. */
  vlan: number;
  /** Seconds since the epoch, nanosecond resolution as far as a double allows. */
  firstTs: number;
  lastTs: number;
  packets: [number, number];
  /** Bytes on the wire (frame original length). */
  bytes: [number, number];
  /** Transport payload bytes as claimed by the IP/transport headers. */
  payloadBytes: [number, number];
  /** Zeek-style history letters, upper case from the client, lower case from the server. */
  history: string;
  /** Protocol code identified in each direction (see src/protocols/identify.ts), 0 = none. */
  protoByDir: [number, number];
  /** Payload packet (1-based) of each direction at which the protocol was identified, or 0. */
  identifiedAt: [number, number];
  /** Corrected payload entropy in bits/byte per direction, or -1 when no sample was taken. */
  entropy: [number, number];
  /** Bytes the entropy of each direction was computed over. */
  entropySample: [number, number];
  /** Hex of the first payload bytes per direction (bounded, for analysts and later parsing). */
  head: [string, string];
  /** Handshake fingerprints (TLS, SSH, QUIC) when the flow showed a handshake. */
  fingerprints?: FlowFingerprints;
  /** The carrier when the flow was seen inside a tunnel (e.g. "gre", "vxlan", "6in4"). */
  encapsulation?: string;
}
