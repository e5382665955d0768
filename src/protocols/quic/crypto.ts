// Initial packet protection (RFC 9001 section 5): keys from the client's first Destination
// Connection ID and a per-version salt, AES-128-GCM for the payload, AES-128-ECB for the
// header protection mask. node:crypto only; nothing here looks at packet structure.

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { Cipher } from 'node:crypto';
import {
  QUIC_AEAD_IV_BYTES, QUIC_AEAD_KEY_BYTES, QUIC_AEAD_TAG_BYTES, QUIC_DRAFT_FIRST,
  QUIC_DRAFT_LAST, QUIC_HKDF_LABEL, QUIC_HP_SAMPLE_BYTES, QUIC_INITIAL_SALT,
  QUIC_SECRET_BYTES, QUIC_V1_INITIAL_TYPE, QUIC_V2_INITIAL_TYPE, QUIC_VERSION,
} from './constants';
import type { QuicInitialProfile } from './constants';

const L = QUIC_HKDF_LABEL;
const V1_LABELS = { keyLabel: L.V1_KEY, ivLabel: L.V1_IV, hpLabel: L.V1_HP };
const PROFILE_V1: QuicInitialProfile = {
  initialType: QUIC_V1_INITIAL_TYPE, salt: QUIC_INITIAL_SALT.V1, ...V1_LABELS,
};
const PROFILE_V2: QuicInitialProfile = {
  initialType: QUIC_V2_INITIAL_TYPE, salt: QUIC_INITIAL_SALT.V2,
  keyLabel: L.V2_KEY, ivLabel: L.V2_IV, hpLabel: L.V2_HP,
};
const PROFILE_DRAFT_29: QuicInitialProfile = { ...PROFILE_V1, salt: QUIC_INITIAL_SALT.DRAFT_29 };
const PROFILE_DRAFT_23: QuicInitialProfile = { ...PROFILE_V1, salt: QUIC_INITIAL_SALT.DRAFT_23 };
const PROFILE_DRAFT_22: QuicInitialProfile = { ...PROFILE_V1, salt: QUIC_INITIAL_SALT.DRAFT_22 };

/** Drafts 29 and 33 are the first to use the draft-29 and the v1 salt (low byte = draft). */
const DRAFT_29 = 29;
const DRAFT_33 = 33;
const DRAFT_23 = 23;

/**
 * Salt and labels of a version whose Initial we can open, or null. v1 and v2 are the RFCs;
 * drafts 22 to 34 still appear in captures (nDPI's draft-29 samples) and differ from v1
 * only in salt.
 */
export function quicInitialProfile(version: number): QuicInitialProfile | null {
  if (version === QUIC_VERSION.V1) return PROFILE_V1;
  if (version === QUIC_VERSION.V2) return PROFILE_V2;
  if (version < QUIC_DRAFT_FIRST || version > QUIC_DRAFT_LAST) return null;
  const draft = version & 0xff;
  if (draft >= DRAFT_33) return PROFILE_V1;
  if (draft >= DRAFT_29) return PROFILE_DRAFT_29;
  return draft >= DRAFT_23 ? PROFILE_DRAFT_23 : PROFILE_DRAFT_22;
}

/** HKDF-Extract with SHA-256 (RFC 5869 section 2.2): HMAC keyed with the salt. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/**
 * HKDF-Expand-Label with an empty context (RFC 8446 section 7.1): HKDF-Expand (RFC 5869
 * section 2.3) of the HkdfLabel struct: u16 length, u8-prefixed "tls13 " + label, u8 0.
 * Every output here fits one SHA-256 block, T(1) = HMAC(secret, HkdfLabel || 0x01), and the
 * few labels repeat, so each label's input is built once.
 */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  const key = `${length} ${label}`;
  let info = labelInfo.get(key);
  if (info === undefined) {
    // HkdfLabel, then the counter byte of the first block.
    const full = `tls13 ${label}`;
    info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
    info.writeUInt16BE(length, 0);
    info[2] = full.length;
    info.write(full, 3, 'latin1');
    info[info.length - 1] = 1;
    if (labelInfo.size < MAX_CACHED_LABELS) labelInfo.set(key, info);
  }
  const first = createHmac('sha256', secret).update(info).digest();
  if (length <= first.length) return first.subarray(0, length);
  // Longer outputs (none in QUIC Initial) chain T(i) = HMAC(secret, T(i-1) || label || i).
  const out = Buffer.alloc(length);
  const label0 = info.subarray(0, info.length - 1);
  let block = first;
  let done = block.copy(out, 0);
  for (let i = 2; done < length; i++) {
    block = createHmac('sha256', secret).update(block).update(label0).update(Buffer.of(i)).digest();
    done += block.copy(out, done);
  }
  return out;
}

/** HkdfLabel bytes by "length label"; a handful of labels exist, the cap is belt and braces. */
const labelInfo = new Map<string, Buffer>();
const MAX_CACHED_LABELS = 64;
/** Salts as bytes, by their hex. */
const saltBytes = new Map<string, Buffer>();

/** The client's Initial keys (RFC 9001 section 5.2) plus a ready header-protection cipher. */
export class QuicInitialKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly hp: Buffer;
  /**
   * AES-128-ECB with padding off: each 16-byte update is one independent block, so a single
   * cipher object serves every packet of the connection and is never finalised.
   */
  private readonly ecb: Cipher;

  constructor(dcid: Uint8Array, profile: QuicInitialProfile) {
    let salt = saltBytes.get(profile.salt);
    if (salt === undefined) saltBytes.set(profile.salt, (salt = Buffer.from(profile.salt, 'hex')));
    const initial = hkdfExtract(salt, dcid);
    const client = hkdfExpandLabel(initial, L.CLIENT_IN, QUIC_SECRET_BYTES);
    this.key = hkdfExpandLabel(client, profile.keyLabel, QUIC_AEAD_KEY_BYTES);
    this.iv = hkdfExpandLabel(client, profile.ivLabel, QUIC_AEAD_IV_BYTES);
    this.hp = hkdfExpandLabel(client, profile.hpLabel, QUIC_AEAD_KEY_BYTES);
    this.ecb = createCipheriv('aes-128-ecb', this.hp, null);
    this.ecb.setAutoPadding(false);
  }

  /** AES-ECB(hp, sample) (RFC 9001 section 5.4.3); the first 5 bytes are the mask. */
  headerMask(b: Uint8Array, sampleStart: number): Buffer {
    return this.ecb.update(b.subarray(sampleStart, sampleStart + QUIC_HP_SAMPLE_BYTES));
  }

  /**
   * Opens an AEAD_AES_128_GCM payload (RFC 9001 section 5.3): nonce = iv XOR the packet
   * number left-padded to 12 bytes, associated data = the unprotected header, the last 16
   * bytes of `sealed` are the tag. Returns the plaintext, or null when authentication fails.
   */
  open(packetNumber: number, aad: Uint8Array, sealed: Uint8Array): Buffer | null {
    if (sealed.length < QUIC_AEAD_TAG_BYTES) return null;
    this.iv.copy(nonce);
    // Packet numbers stay below 2^62 (RFC 9000 section 12.3): XOR them in a byte at a time.
    let pn = packetNumber;
    for (let i = QUIC_AEAD_IV_BYTES - 1; i >= 0 && pn > 0; i--) {
      nonce[i] ^= pn % 256;
      pn = Math.floor(pn / 256);
    }
    const tagAt = sealed.length - QUIC_AEAD_TAG_BYTES;
    const d = createDecipheriv('aes-128-gcm', this.key, nonce, {
      authTagLength: QUIC_AEAD_TAG_BYTES,
    });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(tagAt));
    const plain = d.update(sealed.subarray(0, tagAt));
    try {
      d.final();
    } catch {
      // node:crypto reports a bad tag by throwing; to us it is an answer, not an error.
      return null;
    }
    return plain;
  }
}

/** Per-packet nonce scratch; createDecipheriv copies it, so one buffer serves every call. */
const nonce = Buffer.alloc(QUIC_AEAD_IV_BYTES);
