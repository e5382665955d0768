// SSH handshake parser: one direction's stream bytes from its first byte, in order, up to
// and including the first binary packet when that is SSH_MSG_KEXINIT (RFC 4253 sections
// 4.2, 6 and 7.1). Pure and allocation-light; never throws on packet input.

import type { ParseResult } from '../../fingerprints/types';
import { matchAscii, matchAsciiPrefix, u32be, u8 } from '../reader';
import { MAX_SSH_IDENT_BYTES } from './constants';
import {
  ASCII, MAX_SSH_PACKET_BYTES, MAX_SSH_PREBANNER_BYTES, MAX_SSH_PREBANNER_LINES,
  SSH_KEXINIT_COOKIE_BYTES, SSH_KEXINIT_NAME_LISTS, SSH_MSG, SSH_PACKET_LENGTH_BYTES,
  SSH_PADDING_LENGTH_BYTES, SSH_VERSION_TEXT,
} from './kex-constants';
import type { SshHandshakeInvalid } from './kex-constants';
import type { SshHandshake, SshKexInit } from './types';

export type { SshHandshake, SshKexInit } from './types';

type Invalid = { status: 'invalid'; reason: SshHandshakeInvalid };
const NEED_MORE = { status: 'need-more' } as const;

function invalid(reason: SshHandshakeInvalid): Invalid {
  return { status: 'invalid', reason };
}

/** Where the identification line lies: [start, textEnd) is the text, next follows its LF. */
interface BannerSpan {
  start: number;
  textEnd: number;
  next: number;
}

type BannerResult = BannerSpan | Invalid | typeof NEED_MORE;

/**
 * Parses the identification string and, for SSH-2, the first binary packet. Answers
 * need-more until the KEXINIT is complete; ok with the banner alone for an SSH-1 peer or
 * when the first packet is another message; invalid with a reason from
 * SSH_HANDSHAKE_INVALID otherwise. `consumed` counts from `off` to the end of what was used.
 */
export function parseSshHandshake(
  buf: Uint8Array, off: number, len: number,
): ParseResult<SshHandshake> {
  const end = Math.min(off + len, buf.length);
  const span = findBanner(buf, off, end);
  if (!('next' in span)) return span;
  const banner = bannerText(buf, span.start, span.textEnd, end);
  if (banner === undefined) return invalid('banner_control_char');
  const bannerOnly = { status: 'ok', record: { banner }, consumed: span.next - off } as const;

  // SSH-1.x other than 1.99 speaks the old protocol: no KEXINIT will follow.
  const isV1 = matchAscii(buf, span.start, end, SSH_VERSION_TEXT.V1) &&
    !matchAscii(buf, span.start, end, SSH_VERSION_TEXT.COMPAT_1_99);
  if (isV1) return bannerOnly;

  // Binary packet (section 6): packet_length, padding_length, payload, padding; the first
  // KEXINIT goes before any keys, so there is no MAC and nothing is encrypted.
  const p = span.next;
  const packetLength = u32be(buf, p, end);
  const msgAt = p + SSH_PACKET_LENGTH_BYTES + SSH_PADDING_LENGTH_BYTES;
  const msgType = u8(buf, msgAt, end);
  if (packetLength >= 0 && packetLength < SSH_PADDING_LENGTH_BYTES + 1) {
    return invalid('packet_too_short');
  }
  if (msgType < 0) return NEED_MORE;
  if (msgType !== SSH_MSG.KEXINIT) return bannerOnly;
  if (packetLength + SSH_PACKET_LENGTH_BYTES > MAX_SSH_PACKET_BYTES) {
    return invalid('packet_too_long');
  }

  const paddingLength = u8(buf, p + SSH_PACKET_LENGTH_BYTES, end);
  const payloadLength = packetLength - SSH_PADDING_LENGTH_BYTES - paddingLength;
  if (payloadLength < 1) return invalid('bad_padding_length');
  const packetEnd = p + SSH_PACKET_LENGTH_BYTES + packetLength;
  if (packetEnd > end) return NEED_MORE;

  const kexinit = parseKexInit(buf, msgAt, msgAt + payloadLength);
  if ('status' in kexinit) return kexinit;
  return { status: 'ok', record: { banner, kexinit }, consumed: packetEnd - off };
}

/**
 * Skips the lines a server may send before its identification string (section 4.2: they
 * must not begin with "SSH-"), then finds the LF that ends the identification line.
 */
function findBanner(b: Uint8Array, off: number, end: number): BannerResult {
  const prefix = SSH_VERSION_TEXT.PREFIX;
  let p = off;
  for (let lines = 0; ; lines++) {
    if (matchAscii(b, p, end, prefix)) break;
    // A short line start that could still become "SSH-" must wait for its next bytes.
    if (end - p < prefix.length && matchAsciiPrefix(b, p, end, prefix, 0)) return NEED_MORE;
    if (lines >= MAX_SSH_PREBANNER_LINES) return invalid('prebanner_too_long');

    const limit = off + MAX_SSH_PREBANNER_BYTES;
    const lf = findLf(b, p, Math.min(end, limit), end);
    if (lf < 0) return end >= limit ? invalid('prebanner_too_long') : NEED_MORE;
    p = lf + 1;
  }

  // The line, CR LF included, is at most 255 characters; OpenSSH also accepts a bare LF.
  const lf = findLf(b, p, Math.min(end, p + MAX_SSH_IDENT_BYTES), end);
  if (lf < 0) return end - p >= MAX_SSH_IDENT_BYTES ? invalid('banner_too_long') : NEED_MORE;
  const textEnd = lf > p && u8(b, lf - 1, end) === ASCII.CR ? lf - 1 : lf;
  return { start: p, textEnd, next: lf + 1 };
}

/** Index of the first LF in [from, to), or -1. */
function findLf(b: Uint8Array, from: number, to: number, end: number): number {
  for (let i = from; i < to; i++) {
    if (u8(b, i, end) === ASCII.LF) return i;
  }
  return -1;
}

/**
 * The identification text, one character per byte. Section 4.2 asks for printable
 * US-ASCII; control characters (NUL, a stray CR, DEL) are refused as OpenSSH does, bytes
 * above 0x7f are kept because some vendors put them in the comments.
 */
function bannerText(b: Uint8Array, from: number, to: number, end: number): string | undefined {
  let text = '';
  for (let i = from; i < to; i++) {
    const c = u8(b, i, end);
    if (c < 0x20 || c === 0x7f) return undefined;
    text += String.fromCharCode(c);
  }
  return text;
}

/** SSH_MSG_KEXINIT payload in [start, stop), message number byte first (section 7.1). */
function parseKexInit(b: Uint8Array, start: number, stop: number): SshKexInit | Invalid {
  let p = start + 1;
  if (p + SSH_KEXINIT_COOKIE_BYTES > stop) return invalid('kexinit_truncated');
  const cookie = hex(b, p, p + SSH_KEXINIT_COOKIE_BYTES, stop);
  p += SSH_KEXINIT_COOKIE_BYTES;

  const lists: string[][] = [];
  for (let k = 0; k < SSH_KEXINIT_NAME_LISTS; k++) {
    const length = u32be(b, p, stop);
    if (length < 0) return invalid('kexinit_truncated');
    p += 4;
    if (length > stop - p) return invalid('name_list_overrun');
    const names = nameList(b, p, p + length, stop);
    if (names === undefined) return invalid('name_list_not_ascii');
    lists.push(names);
    p += length;
  }

  // boolean first_kex_packet_follows, then uint32 reserved (0) must both be present.
  const follows = u8(b, p, stop);
  if (follows < 0 || u32be(b, p + 1, stop) < 0) return invalid('kexinit_truncated');
  return {
    cookie,
    kex: lists[0],
    hostKey: lists[1],
    encCtoS: lists[2],
    encStoC: lists[3],
    macCtoS: lists[4],
    macStoC: lists[5],
    compCtoS: lists[6],
    compStoC: lists[7],
    languagesCtoS: lists[8],
    languagesStoC: lists[9],
    firstKexFollows: follows !== 0,
  };
}

/** WHATWG maps "ascii" to windows-1252, which is ASCII on 0x20-0x7e: all it is given. */
const ASCII_TEXT = new TextDecoder('ascii');

/**
 * A name-list (RFC 4251 section 5): comma-separated US-ASCII names. Empty names are kept
 * as they are ("a,,b" gives three) so that joining the list with ',' gives back the wire
 * text, which is what HASSH hashes. The list's length is bounded by the packet cap.
 */
function nameList(b: Uint8Array, from: number, to: number, end: number): string[] | undefined {
  if (from === to) return [];
  for (let i = from; i < to; i++) {
    const c = u8(b, i, end);
    if (c < 0x20 || c > 0x7e) return undefined;
  }
  // Every byte in [from, to) was just checked to be printable ASCII below `end`.
  return ASCII_TEXT.decode(b.subarray(from, to)).split(',');
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'));

function hex(b: Uint8Array, from: number, to: number, end: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += HEX_BYTE[u8(b, i, end) & 0xff];
  return out;
}

/**
 * The client-to-server cipher both sides will use: the first algorithm on the client's
 * list that the server also supports (RFC 4253 section 7.1, encryption_algorithms).
 */
export function negotiatedCipher(client: SshKexInit, server: SshKexInit): string | undefined {
  const offered = new Set(server.encCtoS);
  return client.encCtoS.find((name) => offered.has(name));
}
