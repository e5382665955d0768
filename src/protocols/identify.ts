// Protocol identification from the first payload bytes of one direction of a flow. Each
// protocol folder holds a strict recogniser; this file only routes by transport and first
// byte, so a payload costs one or two checks. A recogniser answers UNKNOWN on any doubt:
// a missed label costs less than a false "SSH on 443" alert.

import { identifyDnsTcp, identifyDnsUdp } from './dns/identify';
import { identifyHttp } from './http/identify';
import { PROTO } from './proto';
import { u8 } from './reader';
import { identifyQuic } from './quic/identify';
import { identifyRdp } from './rdp/identify';
import { identifySmb } from './smb/identify';
import { identifySocks } from './socks/identify';
import { identifySsh } from './ssh/identify';
import { identifyTls } from './tls/identify';

export { PROTO, PROTO_NAMES } from './proto';
export type { ProtoCode } from './proto';

const TCP = 6;
const UDP = 17;

/**
 * Identify from the first payload bytes of ONE direction. transport = 6 or 17 (anything
 * else is UNKNOWN). fromClient = this is the flow originator's direction. Returns a PROTO
 * code or UNKNOWN. Never throws; reads only bytes[off, off+len).
 */
export function identifyPayload(
  bytes: Uint8Array, off: number, len: number, transport: number, fromClient: boolean,
): number {
  if (!(off >= 0) || !(len > 0)) return PROTO.UNKNOWN;
  const end = Math.min(off + len, bytes.length);
  if (end <= off) return PROTO.UNKNOWN;
  if (transport === TCP) return identifyTcp(bytes, off, end, fromClient);
  if (transport === UDP) return identifyUdp(bytes, off, end, fromClient);
  return PROTO.UNKNOWN;
}

function identifyTcp(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  const first = u8(b, off, end);
  let proto: number = PROTO.UNKNOWN;
  switch (first) {
    case 0x53: // 'S'
      proto = identifySsh(b, off, end);
      if (proto === PROTO.UNKNOWN) proto = identifyHttp(b, off, end); // SEARCH
      break;
    case 0x16:
      proto = identifyTls(b, off, end, fromClient);
      break;
    case 0x03:
      proto = identifyRdp(b, off, end, fromClient);
      break;
    case 0x04:
    case 0x05:
      proto = identifySocks(b, off, end, fromClient);
      break;
    case 0x00:
    case 0x81:
    case 0xfc:
    case 0xfd:
    case 0xfe:
    case 0xff:
      proto = identifySmb(b, off, end, fromClient);
      break;
    default:
      if (first >= 0x41 && first <= 0x5a) proto = identifyHttp(b, off, end); // 'A'-'Z'
      else if (first >= 0x80) proto = identifyTls(b, off, end, fromClient); // SSLv2 hello
  }
  // DNS over TCP starts with a length, so any first byte is possible; it is tried last.
  return proto !== PROTO.UNKNOWN ? proto : identifyDnsTcp(b, off, end);
}

function identifyUdp(b: Uint8Array, off: number, end: number, fromClient: boolean): number {
  if ((u8(b, off, end) & 0xc0) === 0xc0) {
    const quic = identifyQuic(b, off, end, fromClient);
    if (quic !== PROTO.UNKNOWN) return quic;
  }
  return identifyDnsUdp(b, off, end);
}
