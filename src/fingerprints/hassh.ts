// HASSH and HASSH-server (Salesforce, 2018): MD5 of the algorithms one side offers in its
// SSH_MSG_KEXINIT, a stable name for an SSH client or server build. Pure functions of the
// parsed record, like every fingerprint here.

import { createHash } from 'node:crypto';

import { negotiatedCipher } from '../protocols/ssh/handshake';
import type { SshHandshake, SshKexInit } from '../protocols/ssh/types';
import type { SshFingerprints } from './types';

export interface HasshValue {
  /** Lower-case MD5 hex of `algorithms`. */
  hassh: string;
  /** "kex;enc;mac;comp", each list joined by ',' exactly as offered. */
  algorithms: string;
}

function hasshOf(kex: string[], enc: string[], mac: string[], comp: string[]): HasshValue {
  const algorithms = `${kex.join(',')};${enc.join(',')};${mac.join(',')};${comp.join(',')}`;
  return { hassh: createHash('md5').update(algorithms, 'latin1').digest('hex'), algorithms };
}

/**
 * Client HASSH: the lists a client offers for what it sends, client-to-server. Host key
 * algorithms and languages are left out by design (they vary with the client's config).
 */
export function hassh(k: SshKexInit): HasshValue {
  return hasshOf(k.kex, k.encCtoS, k.macCtoS, k.compCtoS);
}

/** Server HASSH: the same shape from the server's KEXINIT, server-to-client lists. */
export function hasshServer(k: SshKexInit): HasshValue {
  return hasshOf(k.kex, k.encStoC, k.macStoC, k.compStoC);
}

/** Everything a flow's two handshakes give, for FlowRecord.fingerprints.ssh. */
export function sshFingerprints(client?: SshHandshake, server?: SshHandshake): SshFingerprints {
  const out: SshFingerprints = {};
  if (client !== undefined) out.client_banner = client.banner;
  if (server !== undefined) out.server_banner = server.banner;
  if (client?.kexinit !== undefined) {
    const h = hassh(client.kexinit);
    out.hassh = h.hassh;
    out.hassh_algorithms = h.algorithms;
  }
  if (server?.kexinit !== undefined) {
    const h = hasshServer(server.kexinit);
    out.hassh_server = h.hassh;
    out.hassh_server_algorithms = h.algorithms;
  }
  if (client?.kexinit !== undefined && server?.kexinit !== undefined) {
    const cipher = negotiatedCipher(client.kexinit, server.kexinit);
    if (cipher !== undefined) out.cipher = cipher;
  }
  return out;
}
