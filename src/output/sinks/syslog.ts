// RFC 5424 syslog messages built from ECS documents, and the two framings we send them in:
// one message per UDP datagram (RFC 5426) and octet counting on TCP and TLS (RFC 6587 §3.4.1,
// RFC 5425 §4.3). Pure functions: no sockets here.
// gap: no npm syslog client was evaluated against our needs (RFC 6587 octet counting over TLS
// with client certificates, the timestamp taken from the document, back-pressure into the
// delivery queue); the format itself is one header line and a length prefix, written here.

import os from 'node:os';

/** RFC 5424 §6.2.1: facility local0 (16), the conventional choice for a site's own tools. */
export const FACILITY_LOCAL0 = 16;

/** RFC 5424 §6.2.1 severities used here. */
export const SEVERITY = { err: 3, warning: 4, notice: 5, info: 6 } as const;

/**
 * ECS `event.severity` (21 low, 47 medium, 73 high, see ecs-schema.ts) to syslog severity.
 * A high alert is an error an operator must act on, a medium one a warning, a low one a
 * notice; flow records are informational. An alert without a severity is a warning.
 */
export const ECS_TO_SYSLOG_SEVERITY: Readonly<Record<number, number>> = {
  73: SEVERITY.err, 47: SEVERITY.warning, 21: SEVERITY.notice,
};

/** RFC 5424 §6.2.4: HOSTNAME is at most 255 printable US-ASCII characters. */
export const MAX_HOSTNAME = 255;
/** RFC 5424 §6: APP-NAME at most 48, PROCID 128, MSGID 32 printable US-ASCII characters. */
export const MAX_APP_NAME = 48;
export const MAX_PROCID = 128;
export const MAX_MSGID = 32;
/** RFC 5424 §6.2.3.1: TIME-SECFRAC carries at most 6 digits. */
export const MAX_SECFRAC_DIGITS = 6;

/**
 * Largest message put in one UDP datagram. RFC 5426 §3.2 only requires receivers to take 480
 * (IPv4) / 1180 (IPv6) octets and should take 2048, but an alert line is 2-4 KiB; 8 KiB is
 * the default `maxMessageSize` of rsyslog and syslog-ng, so a longer message would be cut by
 * the receiver anyway. Longer messages are truncated here, on a UTF-8 character boundary.
 */
export const MAX_UDP_MESSAGE = 8192;

export const APP_NAME = 'tunnelhound';
const NILVALUE = '-';

/** The RFC 5424 header fields that do not change per message. */
export interface SyslogOrigin {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
}

/** PRINTUSASCII (%d33-126) only, cut at `max`; NILVALUE when nothing is left (RFC 5424 §6). */
export function printableAscii(s: string, max: number): string {
  const out = s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return out === '' ? NILVALUE : out;
}

export function defaultOrigin(facility = FACILITY_LOCAL0): SyslogOrigin {
  return {
    facility,
    hostname: printableAscii(os.hostname(), MAX_HOSTNAME),
    appName: printableAscii(APP_NAME, MAX_APP_NAME),
    procId: printableAscii(String(process.pid), MAX_PROCID),
  };
}

// RFC 3339 as RFC 5424 §6.2.3 narrows it: upper-case T and Z, at most 6 fraction digits.
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i;

/** The doc's @timestamp as an RFC 5424 TIMESTAMP, NILVALUE when it is not RFC 3339. */
export function syslogTimestamp(ts: unknown): string {
  if (typeof ts !== 'string') return NILVALUE;
  const m = RFC3339.exec(ts);
  if (m === null) return NILVALUE;
  const frac = m[2] === undefined ? '' : '.' + m[2].slice(0, MAX_SECFRAC_DIGITS);
  return (m[1] + frac + m[3]).toUpperCase();
}

/** What the header needs from a document, read once from its JSON. */
export interface DocHeader {
  kind: 'alert' | 'flow';
  timestamp: string;
  severity: number;
}

/** Kind, time and severity of an ECS document; anything else is sent as an informational flow. */
export function docHeader(doc: unknown): DocHeader {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as {
    '@timestamp'?: unknown; event?: { kind?: unknown; severity?: unknown };
  };
  const isAlert = d.event?.kind === 'alert';
  const ecsSev = typeof d.event?.severity === 'number' ? d.event.severity : -1;
  return {
    kind: isAlert ? 'alert' : 'flow',
    timestamp: syslogTimestamp(d['@timestamp']),
    severity: isAlert ? (ECS_TO_SYSLOG_SEVERITY[ecsSev] ?? SEVERITY.warning) : SEVERITY.info,
  };
}

/**
 * One RFC 5424 message (§6): `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`.
 * STRUCTURED-DATA is NILVALUE: an SD-ID of our own needs a private enterprise number (§7.2.2)
 * we do not have, and the event id travels in the payload in both formats. MSG carries no
 * BOM: §6.4 allows MSG-ANY, and a BOM in front of JSON breaks most SIEM parsers; JSON and
 * CEF payloads are UTF-8 by their own specs (RFC 8259 §8.1).
 */
export function syslogMessage(origin: SyslogOrigin, h: DocHeader, payload: string): string {
  const pri = origin.facility * 8 + h.severity;
  const msgId = printableAscii(h.kind, MAX_MSGID);
  return `<${pri}>1 ${h.timestamp} ${origin.hostname} ${origin.appName} ${origin.procId} ` +
    `${msgId} ${NILVALUE} ${payload}`;
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in octets. */
export function octetCounted(msg: string): Buffer {
  const body = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * One UDP datagram (RFC 5426 §3.1: one message per datagram, no framing), at most `max`
 * octets; a cut never splits a UTF-8 sequence. Returns whether it was truncated.
 */
export function udpDatagram(msg: string, max = MAX_UDP_MESSAGE): { buf: Buffer; cut: boolean } {
  const buf = Buffer.from(msg, 'utf8');
  if (buf.length <= max) return { buf, cut: false };
  let end = max;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { buf: buf.subarray(0, end), cut: true };
}
