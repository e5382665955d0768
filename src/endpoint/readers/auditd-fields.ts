// Field-level decoding of raw Linux audit records (the text auditd writes to audit.log):
// `type=SYSCALL msg=audit(1700000000.123:456): key=value ...`, with an optional `node=HOST `
// prefix (auditd name_format) and, in the ENRICHED log format, a 0x1d byte after which auditd
// appends interpreted copies of some fields in upper case (SYSCALL=connect, UID="root").
// Values are either "quoted" (printable, taken as is), hex (the kernel's encoding of any
// untrusted string holding a space, quote, control or non-ASCII byte), or bare words.

/**
 * The record header; serial is unique per event within one boot. auditd's own DAEMON_*
 * records omit the colon after the closing parenthesis. `type=UNKNOWN[1329] msg=?` (a type
 * the writer could not name) does not match: counted as malformed.
 */
const HEADER =
  /^(?:node=(\S+) )?type=([A-Z0-9_]+) msg=audit\((\d{1,12})\.(\d{1,6}):(\d{1,20})\):?\s?/;

/** A record line longer than this is not something auditd writes (MAX_AUDIT_MESSAGE_LENGTH). */
export const MAX_RECORD_CHARS = 16 * 1024;
/** Fields read from one record: a SYSCALL has about 30, an EXECVE may hold many arguments. */
export const MAX_FIELDS = 1024;

export interface AuditRecord {
  node?: string;
  type: string;
  /** Seconds since the epoch, millisecond precision as auditd writes it. */
  ts: number;
  /** `ts:serial` exactly as written: the grouping key of one event. */
  key: string;
  /** Raw fields (before the 0x1d separator). */
  fields: Map<string, string>;
  /** ENRICHED interpreted fields (after 0x1d), upper-case names; empty in RAW format. */
  interpreted: Map<string, string>;
}

/** Parses one audit.log line; null when it is not an audit record at all. */
export function parseAuditRecord(line: string): AuditRecord | null {
  if (line.length > MAX_RECORD_CHARS) return null;
  const m = HEADER.exec(line);
  if (m === null) return null;
  const rest = line.slice(m[0].length);
  const sep = rest.indexOf('\x1d');
  const raw = sep < 0 ? rest : rest.slice(0, sep);
  return {
    node: m[1],
    type: m[2],
    ts: Number(`${m[3]}.${m[4]}`),
    key: `${m[3]}.${m[4]}:${m[5]}`,
    fields: splitFields(raw),
    interpreted: sep < 0 ? new Map() : splitFields(rest.slice(sep + 1)),
  };
}

/**
 * key=value pairs; a value is "double quoted", 'single quoted' (the msg='...' of user-space
 * records, kept whole and not looked into) or runs to the next space.
 */
export function splitFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n && out.size < MAX_FIELDS) {
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    const eq = text.indexOf('=', i);
    if (eq < 0) break;
    const key = text.slice(i, eq);
    let j = eq + 1;
    let value: string;
    const q = text[j];
    if (q === '"' || q === "'") {
      const close = text.indexOf(q, j + 1);
      const stop = close < 0 ? n : close;
      value = text.slice(j, stop + 1);
      j = stop + 1;
    } else if (q === '{') {
      // ENRICHED SADDR={ saddr_fam=inet laddr=... }: one value, braces included.
      const close = text.indexOf('}', j);
      const stop = close < 0 ? n - 1 : close;
      value = text.slice(j, stop + 1);
      j = stop + 1;
    } else {
      const sp = text.indexOf(' ', j);
      const stop = sp < 0 ? n : sp;
      value = text.slice(j, stop);
      j = stop;
    }
    if (key.length > 0 && !key.includes(' ')) out.set(key, value);
    i = j;
  }
  return out;
}

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/**
 * An untrusted-string field (comm, exe, proctitle, EXECVE aN): quoted = literal; otherwise
 * hex-encoded bytes when it is valid hex; `(null)` and `?` mean absent.
 */
export function decodeAuditString(v: string | undefined): string | undefined {
  if (v === undefined || v === '(null)' || v === '?' || v === '') return undefined;
  if (v.startsWith('"')) return v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v.slice(1);
  if (HEX.test(v)) return Buffer.from(v, 'hex').toString('utf8');
  return v;
}

/** A quoted or bare value without its quotes (ENRICHED UID="root"). */
export function unquote(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Address families in struct sockaddr (include/linux/socket.h). */
const AF_INET = 2;
const AF_INET6 = 10;

export interface SockAddr {
  ip: string;
  port: number;
}

/**
 * SOCKADDR saddr= hex of the struct as the process passed it. sa_family is host byte order
 * (little-endian on x86_64 and aarch64, the only arches read here); the port is network order.
 * AF_UNIX, netlink and the rest have no IP side and give null, as does a short struct.
 */
export function decodeSaddr(hex: string | undefined): SockAddr | null {
  if (hex === undefined || !HEX.test(hex) || hex.length > 256) return null;
  const b = Buffer.from(hex, 'hex');
  if (b.length < 8) return null;
  const family = b.readUInt16LE(0);
  const port = b.readUInt16BE(2);
  if (family === AF_INET) {
    return { ip: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  }
  if (family === AF_INET6 && b.length >= 24) {
    const a = b.subarray(8, 24);
    // ::ffff:a.b.c.d (a dual-stack socket reaching IPv4) is the IPv4 peer the wire shows.
    if (a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff) {
      return { ip: `${a[12]}.${a[13]}.${a[14]}.${a[15]}`, port };
    }
    return { ip: ipv6Text(a), port };
  }
  return null;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest zero run (2+) as `::`. */
export function ipv6Text(a: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Syscall numbers per audit arch (AUDIT_ARCH_*), for RAW logs without SYSCALL=name. */
const SYSCALLS: Record<string, Record<string, string>> = {
  // x86_64: arch/x86/entry/syscalls/syscall_64.tbl
  c000003e: { 42: 'connect', 43: 'accept', 49: 'bind', 50: 'listen', 59: 'execve',
    288: 'accept4', 322: 'execveat' },
  // aarch64: include/uapi/asm-generic/unistd.h
  c00000b7: { 200: 'bind', 201: 'listen', 202: 'accept', 203: 'connect', 221: 'execve',
    242: 'accept4', 281: 'execveat' },
};

/** The syscall's name: the ENRICHED interpretation when present, else the arch table. */
export function syscallName(r: AuditRecord): string | undefined {
  const named = r.interpreted.get('SYSCALL');
  if (named !== undefined) return named;
  const arch = r.fields.get('arch');
  const nr = r.fields.get('syscall');
  if (arch === undefined || nr === undefined) return undefined;
  return SYSCALLS[arch.toLowerCase()]?.[nr];
}
