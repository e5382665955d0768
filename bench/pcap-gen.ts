// What the bench capture generators share: a buffered writer of classic pcap files with
// nanosecond timestamps, the Internet checksum, and header writers for Ethernet, IPv4, TCP
// and UDP. Not the sensor's hot path: this runs once to make the bench captures.

import fs from 'node:fs';

/** Classic pcap with nanosecond timestamps (libpcap's savefile.c, "NSEC_TCPDUMP_MAGIC"). */
const PCAP_MAGIC_NSEC = 0xa1b23c4d;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
/** libpcap's MAXIMUM_SNAPLEN. */
const PCAP_SNAPLEN = 262_144;
export const LINKTYPE_ETHERNET = 1;

/** Written in slices this large: few syscalls, and small enough not to matter for memory. */
const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

export const ETHER_HEADER_BYTES = 14;
export const IPV4_HEADER_BYTES = 20;
export const TCP_HEADER_BYTES = 20;
export const UDP_HEADER_BYTES = 8;
export const ETHERTYPE_IPV4 = 0x0800;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/**
 * Writes records into `buf` and the buffer to the file when full. The file is written under
 * a temporary name and renamed by close(), so an interrupted run never leaves a truncated
 * capture that looks up to date.
 */
export class PcapWriter {
  readonly buf = Buffer.alloc(WRITE_BUFFER_BYTES);
  packets = 0;
  /** Sum of original lengths (bytes on the wire). */
  wireBytes = 0;
  private used = 0;
  private written = 0;
  private readonly fd: number;
  private readonly tmp: string;

  constructor(private readonly file: string, linkType = LINKTYPE_ETHERNET) {
    this.tmp = `${file}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w');
    const b = this.buf;
    b.writeUInt32LE(PCAP_MAGIC_NSEC, 0);
    b.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
    b.writeUInt16LE(PCAP_VERSION_MINOR, 6);
    b.writeInt32LE(0, 8); // thiszone
    b.writeUInt32LE(0, 12); // sigfigs
    b.writeUInt32LE(PCAP_SNAPLEN, 16);
    b.writeUInt32LE(linkType, 20);
    this.used = PCAP_GLOBAL_HEADER_BYTES;
  }

  /** Bytes of the file so far, headers included. */
  get fileBytes(): number {
    return this.written + this.used;
  }

  /**
   * Starts a record of `caplen` bytes and returns the offset in `buf` where its data goes;
   * the caller fills buf[offset, offset + caplen) before the next call.
   */
  record(sec: number, nsec: number, caplen: number, origlen = caplen): number {
    if (caplen > PCAP_SNAPLEN) throw new RangeError(`record of ${caplen} bytes > snaplen`);
    if (this.used + PCAP_RECORD_HEADER_BYTES + caplen > this.buf.length) this.flush();
    const b = this.buf;
    const o = this.used;
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(nsec, o + 4);
    b.writeUInt32LE(caplen, o + 8);
    b.writeUInt32LE(origlen, o + 12);
    this.used = o + PCAP_RECORD_HEADER_BYTES + caplen;
    this.packets++;
    this.wireBytes += origlen;
    return o + PCAP_RECORD_HEADER_BYTES;
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.file);
  }

  private flush(): void {
    let at = 0;
    while (at < this.used) at += fs.writeSync(this.fd, this.buf, at, this.used - at);
    this.written += this.used;
    this.used = 0;
  }
}

/** One's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded or inverted. */
export function onesSum(b: Uint8Array, off: number, len: number, sum = 0): number {
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i === end) sum += b[i] << 8; // odd length: pad with a zero byte
  return sum;
}

/** Folds and inverts a onesSum into the checksum field value. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Recomputes the IPv4 header checksum in place (RFC 791 section 3.1). */
export function fixIpv4Checksum(b: Uint8Array, ip: number): void {
  const headerBytes = (b[ip] & 0x0f) * 4;
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  const c = finishChecksum(onesSum(b, ip, headerBytes));
  b[ip + 10] = c >>> 8;
  b[ip + 11] = c & 0xff;
}

export function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

export function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/** Gateway-side MACs: every bench packet crosses one router, as on a span port. */
const MAC_CLIENT_SIDE = [0x02, 0x62, 0x00, 0x00, 0x00, 0x01];
const MAC_SERVER_SIDE = [0x02, 0x62, 0x00, 0x00, 0x00, 0x02];

/** Ethernet II header carrying IPv4; returns the offset of the IP header. */
export function putEthernet(b: Uint8Array, o: number, fromClient: boolean): number {
  const dst = fromClient ? MAC_SERVER_SIDE : MAC_CLIENT_SIDE;
  const src = fromClient ? MAC_CLIENT_SIDE : MAC_SERVER_SIDE;
  for (let i = 0; i < 6; i++) {
    b[o + i] = dst[i];
    b[o + 6 + i] = src[i];
  }
  put16(b, o + 12, ETHERTYPE_IPV4);
  return o + ETHER_HEADER_BYTES;
}

/** IPv4 header without options, DF set, checksum filled; returns the transport offset. */
export function putIpv4(b: Uint8Array, o: number, totalLength: number, id: number,
  proto: number, src: number, dst: number): number {
  b[o] = 0x45; // version 4, IHL 5
  b[o + 1] = 0; // DSCP/ECN
  put16(b, o + 2, totalLength);
  put16(b, o + 4, id);
  put16(b, o + 6, 0x4000); // DF, offset 0
  b[o + 8] = 64; // TTL
  b[o + 9] = proto;
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  fixIpv4Checksum(b, o);
  return o + IPV4_HEADER_BYTES;
}

/** Sum of the IPv4 pseudo-header used by the TCP and UDP checksums (RFC 9293 3.1). */
function pseudoHeaderSum(b: Uint8Array, ip: number, proto: number, length: number): number {
  return onesSum(b, ip + 12, 8) + proto + length;
}

/** TCP/UDP checksum over pseudo-header, header and payload; `field` is its offset. */
export function fixTransportChecksum(b: Uint8Array, ip: number, l4: number, length: number,
  proto: number, field: number): void {
  b[field] = 0;
  b[field + 1] = 0;
  let c = finishChecksum(onesSum(b, l4, length, pseudoHeaderSum(b, ip, proto, length)));
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff; // RFC 768: 0 means "no checksum"
  put16(b, field, c);
}
