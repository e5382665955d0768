// The server's leaf certificate from a TLS 1.2-or-earlier Certificate message (RFC 5246
// section 7.4.2), read with a minimal DER walk (ITU-T X.690) over the X.509 fields the
// flow record keeps (RFC 5280 section 4.1): serial, issuer, validity, subject. Only the
// leaf is needed, so it is parsed as soon as its bytes are in, before the rest of the chain.

import type { ParseResult, TlsCertificateInfo } from '../../fingerprints/types';
import { u24be, u8 } from '../reader';
import {
  DER_TAG, MAX_DER_LENGTH_BYTES, MAX_NAME_ATTRIBUTES, MAX_OID_BYTES, MAX_SERIAL_BYTES,
  TLS_HANDSHAKE_HEADER_BYTES, TLS_HANDSHAKE_TYPE, TLS_U24_BYTES, UTC_TIME_PIVOT_YEAR,
  X509_ATTRIBUTE_NAME,
} from './constants';
import type { TlsCertInvalid } from './constants';
import { NEED_MORE, binaryString } from './fields';

type CertInvalid = { status: 'invalid'; reason: TlsCertInvalid };

function bad(reason: TlsCertInvalid): CertInvalid {
  return { status: 'invalid', reason };
}

/**
 * Certificate handshake message from its header (type 11): need-more until the first
 * ASN.1Cert of certificate_list is complete, then that leaf. `consumed` ends at the leaf.
 */
export function parseCertificateMessageLeaf(
  buf: Uint8Array, off: number, len: number,
): ParseResult<TlsCertificateInfo> {
  const end = Math.min(off + len, buf.length);
  const type = u8(buf, off, end);
  if (type < 0) return NEED_MORE;
  if (type !== TLS_HANDSHAKE_TYPE.CERTIFICATE) return bad('not_certificate_message');
  const messageLength = u24be(buf, off + 1, end);
  const body = off + TLS_HANDSHAKE_HEADER_BYTES;
  // certificate_list<0..2^24-1>, each ASN.1Cert<1..2^24-1>.
  const listLength = u24be(buf, body, end);
  const leafLength = u24be(buf, body + TLS_U24_BYTES, end);
  if (messageLength >= 0 && messageLength < TLS_U24_BYTES) return bad('bad_certificate_lengths');
  if (listLength === 0) return bad('empty_certificate_list');
  if (leafLength < 0) return NEED_MORE;
  const leaf = body + 2 * TLS_U24_BYTES;
  if (leafLength === 0 || listLength > messageLength - TLS_U24_BYTES ||
    leafLength > listLength - TLS_U24_BYTES) {
    return bad('bad_certificate_lengths');
  }
  if (leaf + leafLength > end) return NEED_MORE;
  const cert = parseX509Certificate(buf, leaf, leafLength);
  if (cert.status !== 'ok') return cert;
  return { status: 'ok', record: cert.record, consumed: leaf + leafLength - off };
}

/** One DER TLV: tag, content [start, end), and where the next TLV begins (= end). */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** Reads a TLV that must lie wholly below `end`; undefined on anything malformed. */
function readTlv(b: Uint8Array, p: number, end: number): Tlv | undefined {
  const tag = u8(b, p, end);
  const first = u8(b, p + 1, end);
  // High-tag-number form never occurs in the fields read here; indefinite length is BER.
  if (tag < 0 || first < 0 || (tag & 0x1f) === 0x1f || first === 0x80) return undefined;
  let length = first;
  let start = p + 2;
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > MAX_DER_LENGTH_BYTES) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) {
      const c = u8(b, start + i, end);
      if (c < 0) return undefined;
      length = length * 256 + c;
    }
    start += n;
  }
  if (start + length > end) return undefined;
  return { tag, start, end: start + length };
}

function child(b: Uint8Array, p: number, end: number, tag: number): Tlv | undefined {
  const t = readTlv(b, p, end);
  return t !== undefined && t.tag === tag ? t : undefined;
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, and in
 * TBSCertificate: [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject
 * (RFC 5280 section 4.1). `der` holds the certificate from `off`, `len` bytes.
 */
export function parseX509Certificate(
  der: Uint8Array, off: number, len: number,
): ParseResult<TlsCertificateInfo> {
  const end = Math.min(off + len, der.length);
  const cert = child(der, off, end, DER_TAG.SEQUENCE);
  const tbs = cert && child(der, cert.start, cert.end, DER_TAG.SEQUENCE);
  if (tbs === undefined) return bad('bad_der');

  let p = tbs.start;
  const version = readTlv(der, p, tbs.end);
  if (version?.tag === DER_TAG.CONTEXT_0) p = version.end;
  const serial = child(der, p, tbs.end, DER_TAG.INTEGER);
  const signature = serial && child(der, serial.end, tbs.end, DER_TAG.SEQUENCE);
  const issuer = signature && child(der, signature.end, tbs.end, DER_TAG.SEQUENCE);
  const validity = issuer && child(der, issuer.end, tbs.end, DER_TAG.SEQUENCE);
  const subject = validity && child(der, validity.end, tbs.end, DER_TAG.SEQUENCE);
  if (serial === undefined || subject === undefined || issuer === undefined) {
    return bad('bad_der');
  }
  if (serial.end === serial.start || serial.end - serial.start > MAX_SERIAL_BYTES) {
    return bad('bad_serial');
  }

  const notBefore = readTime(der, validity!.start, validity!.end);
  const notAfter = notBefore && readTime(der, notBefore.next, validity!.end);
  if (notBefore === undefined || notAfter === undefined) return bad('bad_time');
  const subjectText = formatName(der, subject);
  const issuerText = formatName(der, issuer);
  if (subjectText === undefined || issuerText === undefined) return bad('bad_der');

  const record: TlsCertificateInfo = {
    subject: subjectText,
    issuer: issuerText,
    notBefore: notBefore.iso,
    notAfter: notAfter.iso,
    // Self-issued in RFC 5280's sense (section 3.3): the two names are the same bytes.
    selfSigned: sameBytes(der, subject, issuer),
    serial: serialHex(der, serial),
  };
  return { status: 'ok', record, consumed: cert!.end - off };
}

function sameBytes(b: Uint8Array, x: Tlv, y: Tlv): boolean {
  if (x.end - x.start !== y.end - y.start) return false;
  for (let i = 0; i < x.end - x.start; i++) {
    if (u8(b, x.start + i, x.end) !== u8(b, y.start + i, y.end)) return false;
  }
  return true;
}

/** Upper-case hex of the INTEGER's magnitude, as Zeek and ECS x509.serial_number show it:
 * DER's sign-padding zero byte is dropped. */
function serialHex(b: Uint8Array, t: Tlv): string {
  let p = t.start;
  if (t.end - p > 1 && u8(b, p, t.end) === 0) p++;
  return hexOf(b, p, t.end).toUpperCase();
}

// ---- Time (RFC 5280 section 4.1.2.5) ----

/**
 * UTCTime YYMMDDHHMM[SS]Z or GeneralizedTime YYYYMMDDHHMM[SS][.f]Z, as ISO 8601 UTC.
 * DER requires the seconds and 'Z'; BER's shorter and offset forms are taken too.
 */
function readTime(
  b: Uint8Array, p: number, end: number,
): { iso: string; next: number } | undefined {
  const t = readTlv(b, p, end);
  if (t === undefined) return undefined;
  if (t.tag !== DER_TAG.UTC_TIME && t.tag !== DER_TAG.GENERALIZED_TIME) return undefined;
  const text = binaryString(b, t.start, t.end - t.start, t.end);
  const m = (t.tag === DER_TAG.UTC_TIME ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (m === null) return undefined;
  let year = Number(m[1]);
  if (t.tag === DER_TAG.UTC_TIME) year += year < UTC_TIME_PIVOT_YEAR ? 2000 : 1900;
  const [month, day, hour, minute] = [m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
    second > 60) {
    return undefined;
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (m[7] !== 'Z') {
    const sign = m[7][0] === '-' ? -1 : 1;
    ms -= sign * (Number(m[7].slice(1, 3)) * 60 + Number(m[7].slice(3, 5))) * 60_000;
  }
  return { iso: new Date(ms).toISOString().replace('.000Z', 'Z'), next: t.end };
}

const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:[.,]\d+)?(Z|[+-]\d{4})$/;

// ---- Names (RFC 5280 section 4.1.2.4, printed per RFC 4514) ----

/**
 * Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue), printed
 * as RFC 4514 does: last RDN first, ',' between RDNs, '+' inside one.
 */
function formatName(b: Uint8Array, name: Tlv): string | undefined {
  const rdns: string[] = [];
  let attributes = 0;
  for (let p = name.start; p < name.end;) {
    const set = child(b, p, name.end, DER_TAG.SET);
    if (set === undefined) return undefined;
    const parts: string[] = [];
    for (let q = set.start; q < set.end;) {
      if (++attributes > MAX_NAME_ATTRIBUTES) return undefined;
      const atv = child(b, q, set.end, DER_TAG.SEQUENCE);
      const oid = atv && child(b, atv.start, atv.end, DER_TAG.OID);
      const value = oid && readTlv(b, oid.end, atv!.end);
      if (value === undefined) return undefined;
      const type = oidText(b, oid!);
      parts.push(`${X509_ATTRIBUTE_NAME[type] ?? type}=${valueText(b, oid!.end, value)}`);
      q = atv!.end;
    }
    rdns.push(parts.join('+'));
    p = set.end;
  }
  return rdns.reverse().join(',');
}

/** Dotted decimal (X.690 section 8.19): base-128 arcs, the first byte-run holding two. */
function oidText(b: Uint8Array, t: Tlv): string {
  if (t.end - t.start > MAX_OID_BYTES || t.end === t.start) return hexOf(b, t.start, t.end);
  const arcs: number[] = [];
  let v = 0;
  for (let p = t.start; p < t.end; p++) {
    const c = u8(b, p, t.end);
    v = v * 128 + (c & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) return hexOf(b, t.start, t.end);
    if ((c & 0x80) !== 0) continue;
    if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
    else arcs.push(v);
    v = 0;
  }
  return arcs.join('.');
}

const UTF8 = new TextDecoder('utf-8');

/** A directory string as text, escaped per RFC 4514 section 2.4; other types as #hex. */
function valueText(b: Uint8Array, tlvStart: number, t: Tlv): string {
  let text: string;
  switch (t.tag) {
    case DER_TAG.UTF8_STRING:
      text = UTF8.decode(b.subarray(t.start, t.end));
      break;
    case DER_TAG.PRINTABLE_STRING:
    case DER_TAG.IA5_STRING:
    case DER_TAG.NUMERIC_STRING:
    case DER_TAG.VISIBLE_STRING:
    case DER_TAG.TELETEX_STRING:
      // T.61 is read as Latin-1: close for the characters CAs actually put there.
      text = binaryString(b, t.start, t.end - t.start, t.end);
      break;
    case DER_TAG.BMP_STRING:
      text = wideString(b, t, 2);
      break;
    case DER_TAG.UNIVERSAL_STRING:
      text = wideString(b, t, 4);
      break;
    default:
      return `#${hexOf(b, tlvStart, t.end)}`;
  }
  return escapeRfc4514(text);
}

/** Big-endian UCS-2 / UCS-4 code units; invalid code points become U+FFFD. */
function wideString(b: Uint8Array, t: Tlv, width: 2 | 4): string {
  let s = '';
  for (let p = t.start; p + width <= t.end; p += width) {
    let cp = 0;
    for (let i = 0; i < width; i++) cp = cp * 256 + u8(b, p + i, t.end);
    s += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  }
  return s;
}

/** RFC 4514 section 2.4: backslash before the specials, a leading '#' or space and a
 * trailing space; control characters as \hh so nothing invisible reaches a log. */
function escapeRfc4514(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = s.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) out += `\\${code.toString(16).padStart(2, '0')}`;
    else if (',+"\\<>;'.includes(c)) out += `\\${c}`;
    else if ((i === 0 && (c === '#' || c === ' ')) || (i === s.length - 1 && c === ' ')) {
      out += `\\${c}`;
    } else out += c;
  }
  return out;
}

function hexOf(b: Uint8Array, p: number, end: number): string {
  let s = '';
  for (let i = p; i < end; i++) s += u8(b, i, end).toString(16).padStart(2, '0');
  return s;
}
