// Hex digests for the fingerprints. crypto.hash (Node 20.12+) is a one-shot call about three
// times faster than createHash().update().digest() on fingerprint-sized strings; older
// Node 20 releases fall back to the latter.

import * as crypto from 'node:crypto';

export type DigestAlgorithm = 'md5' | 'sha256';

/** The portable form, used where crypto.hash is missing. */
export function streamedHexDigest(algorithm: DigestAlgorithm, text: string): string {
  return crypto.createHash(algorithm).update(text).digest('hex');
}

export const hexDigest: (algorithm: DigestAlgorithm, text: string) => string =
  typeof crypto.hash === 'function'
    ? (algorithm, text) => crypto.hash(algorithm, text, 'hex')
    : streamedHexDigest;
