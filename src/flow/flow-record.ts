import { FlowFingerprints } from '../fingerprints/types';
import { IcmpEchoRecord } from './features/icmp-echo';
import type { DnsFlowSummary } from './features/dns';
import type { TlsShape } from './features/tls-shape';

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
  /** SSH session shape after the key exchange; only on flows identified as SSH. */
  sshShape?: SshShapeRecord;
  /** ICMP/ICMPv6 flows: echo sizes, counts and how the payloads changed (see features/). */
  icmpEcho?: IcmpEchoRecord;
  /** DNS summary, for flows identified as DNS (src/flow/features/dns.ts). */
  dns?: DnsFlowSummary;
  /** application_data record sizes, for TLS over TCP (src/flow/features/tls-shape.ts). */
  tlsShape?: TlsShape;
}

/**
 * What src/flow/features/ssh-shape.ts measured on an SSH flow once both directions were
 * encrypted. Pairs are [client-to-server, server-to-client]; counts are TCP segments. A
 * "keystroke" is a segment exactly the size of an SSH_MSG_CHANNEL_DATA carrying 1 byte (or
 * up to 6: an escape sequence) for that direction's cipher and MAC.
 */
export interface SshShapeRecord {
  /** Negotiated cipher and MAC per direction ('' when unknown; MAC '' for AEAD ciphers). */
  cipher: [string, string];
  mac: [string, string];
  /** False when the sizes below assume chacha20-poly1305 for want of the KEXINITs. */
  algorithmsKnown: boolean;
  /** Wire size of a one-byte channel-data packet per direction. */
  keystrokeBytes: [number, number];
  /** How the end of the handshake was found: exactly, estimated, or not yet. */
  handshake: 'newkeys' | 'estimated' | 'pending';
  /** Seconds of encrypted traffic seen. */
  seconds: number;
  packets: [number, number];
  bytes: [number, number];
  /** Segments with no payload and only ACK set. */
  bareAcks: [number, number];
  /** Payload segments by size: keystroke, small (< 3 keystrokes), medium (<= 512 bytes),
   *  large (< 1024), bulk (>= 1024). */
  keystroke: [number, number];
  small: [number, number];
  medium: [number, number];
  large: [number, number];
  bulk: [number, number];
  /** Segments the size of an inner SSH keystroke wrapped in one channel-data packet. */
  nestedKeystroke: [number, number];
  /** Keystrokes of this side the peer answered with a keystroke-sized segment (an echo). */
  echoed: [number, number];
  /** The same for nested keystrokes: an inner interactive session. */
  nestedEchoed: [number, number];
  /** Keystrokes spaced like typing (30 ms to 2 s after the previous one). */
  typed: [number, number];
  /** Exchanges (payload after 0.5 s of quiet) this side started with a keystroke... */
  startedByKey: [number, number];
  /** ... or with anything larger (a request, a channel open). */
  startedByRequest: [number, number];
  /**
   * Exchanges this side started (after the authentication one) in which both sides sent
   * data segments (medium or larger), 1 KB or more of them in all.
   */
  exchanges: [number, number];
  /** Of those, the ones started by a request rather than a keystroke. */
  requestExchanges: [number, number];
  /** Bytes of data segments (both ways) in the exchanges this side started. */
  exchangeBytes: [number, number];
  /** Longest run of back-to-back bulk segments one way, and runs of 32 or more. */
  longestBulkRun: [number, number];
  longBulkRuns: [number, number];
}
