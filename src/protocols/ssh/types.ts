// What the SSH handshake parser extracts from one direction of a connection.

/** SSH_MSG_KEXINIT (RFC 4253 section 7.1), name-lists split on commas, in wire order. */
export interface SshKexInit {
  /** The 16 random bytes, lower-case hex. */
  cookie: string;
  kex: string[];
  hostKey: string[];
  encCtoS: string[];
  encStoC: string[];
  macCtoS: string[];
  macStoC: string[];
  compCtoS: string[];
  compStoC: string[];
  languagesCtoS: string[];
  languagesStoC: string[];
  /** first_kex_packet_follows: any non-zero byte is true (RFC 4251 section 5). */
  firstKexFollows: boolean;
}

export interface SshHandshake {
  /** Identification line without its CR LF, e.g. "SSH-2.0-OpenSSH_9.6 Ubuntu-3". */
  banner: string;
  /** Absent for SSH-1 peers and when the first packet is not a KEXINIT. */
  kexinit?: SshKexInit;
}
