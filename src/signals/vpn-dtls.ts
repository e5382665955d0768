// The DTLS data channel of SSL VPNs (Cisco AnyConnect and its clones openconnect/ocserv,
// FortiClient): next to the TLS control session on tcp/443 the client opens DTLS on the same
// port for the tunnelled packets. Read from the flow's head only: the first records each
// direction sent must be a DTLS handshake (RFC 6347 section 4.1 record layer, 4.2.2
// handshake header), the client's opening a ClientHello, the server's answer a
// HelloVerifyRequest or ServerHello, and both directions in the same version family.

import { u8, u16be, u24be } from '../protocols/reader';

// RFC 6347 section 4.1 (record layer) and 4.2.2 (handshake header).
const DTLS_RECORD_HEADER = 13;
const DTLS_HANDSHAKE_HEADER = 12;
const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_APPLICATION_DATA = 23;
const CONTENT_HANDSHAKE = 22;
const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_HELLO_VERIFY_REQUEST = 3;

// Record versions: DTLS 1.0 and 1.2 (RFC 6347 section 4.1; 1.3 still opens with a 1.2
// plaintext record, RFC 9147 section 4), and 0x0100, the pre-RFC version Cisco's gateways
// speak (OpenSSL names it DTLS1_BAD_VER); only AnyConnect-compatible VPNs use it.
const DTLS_1_0 = 0xfeff;
const DTLS_1_2 = 0xfefd;
const DTLS_CISCO_PRE_RFC = 0x0100;

/** TLSCiphertext may be up to 2^14 + 2048 bytes (RFC 5246 section 6.2.3, kept by DTLS). */
const MAX_DTLS_RECORD = 16384 + 2048;
/** Records walked in one head; 64 head bytes hold at most four headers. */
const MAX_RECORDS_WALKED = 8;

export type DtlsFamily = 'standard' | 'cisco';

export interface DtlsOpening {
  family: DtlsFamily;
  /** Handshake type of the first record (1, 2 or 3). */
  firstHandshake: number;
  version: number;
}

function familyOf(version: number): DtlsFamily | null {
  if (version === DTLS_1_0 || version === DTLS_1_2) return 'standard';
  return version === DTLS_CISCO_PRE_RFC ? 'cisco' : null;
}

/**
 * The first record of a head as a DTLS handshake opening, or null. Later records that fit in
 * the head (the same datagram or the next ones: the head concatenates payloads) must also be
 * DTLS records of the same family, so a stray 0x16 followed by noise does not pass.
 */
export function parseDtlsOpening(b: Uint8Array): DtlsOpening | null {
  const end = b.length;
  if (u8(b, 0, end) !== CONTENT_HANDSHAKE) return null;
  const version = u16be(b, 1, end);
  const family = familyOf(version);
  // The first flight is sent in epoch 0 (RFC 6347 section 4.1).
  if (family === null || u16be(b, 3, end) !== 0) return null;
  const recordLen = u16be(b, 11, end);
  if (recordLen < DTLS_HANDSHAKE_HEADER || recordLen > MAX_DTLS_RECORD) return null;

  const at = DTLS_RECORD_HEADER;
  const msgType = u8(b, at, end);
  const msgLen = u24be(b, at + 1, end);
  const fragOffset = u24be(b, at + 6, end);
  const fragLen = u24be(b, at + 9, end);
  if (msgType !== HS_CLIENT_HELLO && msgType !== HS_SERVER_HELLO &&
    msgType !== HS_HELLO_VERIFY_REQUEST) return null;
  // The fragment must sit inside its message and its record (section 4.2.2).
  // A head cut inside the handshake header (under 25 bytes) proves nothing: no claim.
  if (msgLen < 0 || fragOffset < 0 || fragLen < 0 || fragOffset + fragLen > msgLen ||
    fragLen > recordLen - DTLS_HANDSHAKE_HEADER) return null;
  // Hello bodies open with the sender's protocol version (RFC 6347 sections 4.2.1, 4.3.2).
  const bodyVersion = u16be(b, at + DTLS_HANDSHAKE_HEADER, end);
  if (fragOffset === 0 && bodyVersion >= 0 && familyOf(bodyVersion) !== family) return null;

  if (!laterRecordsAgree(b, DTLS_RECORD_HEADER + recordLen, family)) return null;
  return { family, firstHandshake: msgType, version };
}

function laterRecordsAgree(b: Uint8Array, from: number, family: DtlsFamily): boolean {
  const end = b.length;
  let at = from;
  for (let n = 0; n < MAX_RECORDS_WALKED && at + DTLS_RECORD_HEADER <= end; n++) {
    const type = u8(b, at, end);
    if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_APPLICATION_DATA) return false;
    const version = u16be(b, at + 1, end);
    // A HelloVerifyRequest may carry 1.0 while the rest is 1.2 (section 4.2.1): only the
    // family has to hold. Handshakes move to epoch 1 after ChangeCipherSpec, no further.
    if (familyOf(version) !== family || u16be(b, at + 3, end) > 1) return false;
    const len = u16be(b, at + 11, end);
    if (len <= 0 || len > MAX_DTLS_RECORD) return false;
    at += DTLS_RECORD_HEADER + len;
  }
  return true;
}

export interface DtlsChannel {
  family: DtlsFamily;
  detail: string;
}

/**
 * A DTLS handshake both ways: ClientHello from the client, HelloVerifyRequest or ServerHello
 * back, same version family. QUIC cannot pass: its long header sets the form bit (0x80) in
 * the first byte (RFC 9000 section 17.2), which a DTLS content type (20-25) never has.
 */
export function dtlsHandshake(c: Uint8Array, s: Uint8Array): DtlsChannel | null {
  const co = parseDtlsOpening(c);
  const so = parseDtlsOpening(s);
  if (co === null || so === null || co.firstHandshake !== HS_CLIENT_HELLO ||
    so.firstHandshake === HS_CLIENT_HELLO || co.family !== so.family) return null;
  const hex = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;
  return {
    family: co.family,
    detail: `DTLS ClientHello answered by ${so.firstHandshake === HS_SERVER_HELLO
      ? 'ServerHello' : 'HelloVerifyRequest'}, record versions ${hex(co.version)}/` +
      `${hex(so.version)}${co.family === 'cisco' ? ' (Cisco pre-RFC DTLS)' : ''}`,
  };
}
