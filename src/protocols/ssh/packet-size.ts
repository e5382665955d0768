// The size on the wire of an encrypted SSH binary packet, from the negotiated cipher and MAC
// (RFC 4253 section 6): what one keystroke costs, so that session-shape features can say
// "keystroke-sized" without decrypting anything. Pure functions of the KEXINIT lists.

import type { SshKexInit } from './types';

/** Cipher facts that decide the padding (RFC 4253 section 6, RFC 4344, RFC 5647). */
interface CipherSize {
  /** Cipher block size; padding aligns to max(block, 8). */
  block: number;
  /** AEAD tag length; 0 for ciphers that take a separate MAC. */
  tag: number;
}

// Encryption algorithm names (RFC 4250 section 4.11.1 registry, OpenSSH extensions).
const CIPHERS: Readonly<Record<string, CipherSize>> = {
  'chacha20-poly1305@openssh.com': { block: 8, tag: 16 },
  'aes128-gcm@openssh.com': { block: 16, tag: 16 },
  'aes256-gcm@openssh.com': { block: 16, tag: 16 },
  AEAD_AES_128_GCM: { block: 16, tag: 16 }, // RFC 5647
  AEAD_AES_256_GCM: { block: 16, tag: 16 },
  'aes128-ctr': { block: 16, tag: 0 }, // RFC 4344
  'aes192-ctr': { block: 16, tag: 0 },
  'aes256-ctr': { block: 16, tag: 0 },
  'aes128-cbc': { block: 16, tag: 0 },
  'aes192-cbc': { block: 16, tag: 0 },
  'aes256-cbc': { block: 16, tag: 0 },
  'rijndael-cbc@lysator.liu.se': { block: 16, tag: 0 },
  'twofish-cbc': { block: 16, tag: 0 },
  'twofish128-cbc': { block: 16, tag: 0 },
  'twofish256-cbc': { block: 16, tag: 0 },
  'serpent128-cbc': { block: 16, tag: 0 },
  '3des-cbc': { block: 8, tag: 0 },
  '3des-ctr': { block: 8, tag: 0 },
  'blowfish-cbc': { block: 8, tag: 0 },
  'cast128-cbc': { block: 8, tag: 0 },
  arcfour: { block: 8, tag: 0 },
  arcfour128: { block: 8, tag: 0 },
  arcfour256: { block: 8, tag: 0 },
};

// MAC lengths (RFC 4253 section 6.4, RFC 6668, OpenSSH's umac and -etm variants). An
// encrypt-then-MAC variant leaves packet_length in clear, outside the padded block.
const MACS: Readonly<Record<string, number>> = {
  'hmac-sha1': 20,
  'hmac-sha1-96': 12,
  'hmac-md5': 16,
  'hmac-md5-96': 12,
  'hmac-sha2-256': 32,
  'hmac-sha2-512': 64,
  'hmac-ripemd160': 20,
  'hmac-ripemd160@openssh.com': 20,
  'umac-64@openssh.com': 8,
  'umac-128@openssh.com': 16,
};
const ETM_SUFFIX = '-etm@openssh.com';

/** uint32 packet_length and byte padding_length (RFC 4253 section 6). */
const PACKET_HEADER_BYTES = 5;
/** Least padding, and the smallest alignment (RFC 4253 section 6). */
const MIN_PADDING = 4;
const MIN_BLOCK = 8;
/**
 * SSH_MSG_CHANNEL_DATA: byte type, uint32 recipient channel, uint32 data length, then the
 * data (RFC 4254 section 5.2).
 */
export const CHANNEL_DATA_OVERHEAD = 9;

/** What one direction of a connection negotiated; `undefined` names were not agreed. */
export interface SshDirectionAlgorithms {
  cipher?: string;
  mac?: string;
  compression?: string;
}

/** Length of a MAC by name, and whether it is encrypt-then-MAC; undefined when unknown. */
function macInfo(name: string): { len: number; etm: boolean } | undefined {
  const etm = name.endsWith(ETM_SUFFIX);
  // "umac-64-etm@openssh.com" is the -etm form of "umac-64@openssh.com".
  const base = etm ? name.slice(0, -ETM_SUFFIX.length) : name;
  const len = MACS[base] ?? (etm ? MACS[`${base}@openssh.com`] : undefined);
  return len === undefined ? undefined : { len, etm };
}

/**
 * Bytes on the wire of one packet carrying `payload` bytes, padded the way OpenSSH and the
 * RFC do it: the shortest padding of at least 4 bytes that aligns the encrypted part. For
 * AEAD ciphers and encrypt-then-MAC the 4-byte length is outside that part. Returns -1 for
 * an unknown cipher or MAC, or when compression makes sizes unpredictable.
 *
 * gap: implementations may add random extra padding (RFC 4253 allows up to 255 bytes);
 * OpenSSH and most clients do not, those that do will look less keystroke-like.
 */
export function sshPacketSize(alg: SshDirectionAlgorithms, payload: number): number {
  if (alg.cipher === undefined || !(payload >= 0)) return -1;
  if (alg.compression !== undefined && alg.compression !== 'none') return -1;
  const c = CIPHERS[alg.cipher];
  if (c === undefined) return -1;
  let macLen = c.tag;
  let lengthOutside = c.tag > 0;
  if (c.tag === 0) {
    const m = alg.mac === undefined ? undefined : macInfo(alg.mac);
    if (m === undefined) return -1;
    macLen = m.len;
    lengthOutside = m.etm;
  }
  const block = Math.max(c.block, MIN_BLOCK);
  const aligned = PACKET_HEADER_BYTES + payload - (lengthOutside ? 4 : 0);
  let padding = block - (aligned % block);
  if (padding < MIN_PADDING) padding += block;
  return aligned + padding + (lengthOutside ? 4 : 0) + macLen;
}

/** Wire size of a packet carrying one SSH_MSG_CHANNEL_DATA of `data` bytes. */
export function channelDataSize(alg: SshDirectionAlgorithms, data: number): number {
  return sshPacketSize(alg, CHANNEL_DATA_OVERHEAD + data);
}

/** First name on the client's list that the server's list also has (RFC 4253 s. 7.1). */
function agree(client: string[], server: string[]): string | undefined {
  const offered = new Set(server);
  return client.find((n) => offered.has(n));
}

/**
 * What each direction negotiated, index 0 client-to-server and 1 server-to-client. The MAC
 * is left out for AEAD ciphers, which ignore it (RFC 5647 section 5.1).
 */
export function negotiatedAlgorithms(
  client: SshKexInit, server: SshKexInit,
): [SshDirectionAlgorithms, SshDirectionAlgorithms] {
  const dir = (enc: 'encCtoS' | 'encStoC', mac: 'macCtoS' | 'macStoC',
    comp: 'compCtoS' | 'compStoC'): SshDirectionAlgorithms => {
    const cipher = agree(client[enc], server[enc]);
    const aead = cipher !== undefined && (CIPHERS[cipher]?.tag ?? 0) > 0;
    return {
      cipher,
      mac: aead ? undefined : agree(client[mac], server[mac]),
      compression: agree(client[comp], server[comp]),
    };
  };
  return [dir('encCtoS', 'macCtoS', 'compCtoS'), dir('encStoC', 'macStoC', 'compStoC')];
}
