// Reader of raw Linux audit logs (audit.log, RAW or ENRICHED format). One kernel event is
// several records sharing msg=audit(ts:serial): SYSCALL (who, which call, result), SOCKADDR
// (the address the call used), EXECVE (argv), PROCTITLE (the process's command line, capped
// at 128 bytes by the kernel), CWD, PATH..., and EOE closing it. Records of one event are
// usually adjacent but may interleave with other events', and kernels without EOE records
// exist (ours writes none for single-record events), so events are grouped in a bounded
// pending set and closed by EOE, by age, by pressure, or at the end of the input.
//
// What comes out (event.ts: source = local side, destination = remote side):
//   connect  -> action connect, destination = SOCKADDR (the remote end; the local port is
//               not in any record: the join calls this a remote_only match)
//   accept   -> action accept, destination = SOCKADDR (the peer that connected)
//   bind     -> action listen, source = SOCKADDR (a local port other than 0)
//   execve   -> action exec, process.args / command_line from EXECVE
// A connect that failed counts only with exit=-115 (EINPROGRESS: a non-blocking connect whose
// SYN is on the wire); other failures opened no flow. listen(2) carries no address and is
// folded into the bind that preceded it. Transport is not in the records (the socket type is
// in socket(2), not audited here), so network.transport stays unset: the join accepts any.

import { EndpointEvent, EndpointProcess } from '../event';
import {
  AuditRecord, decodeAuditString, decodeSaddr, parseAuditRecord, syscallName, unquote,
} from './auditd-fields';
import { EndpointReader, registerReader } from './reader';

/** Events open at once; more means records that never close (no EOE): the oldest is flushed. */
export const MAX_PENDING_EVENTS = 256;
/** auditd's own end_of_event_timeout default (auditd.conf): an event older than this is done. */
export const EVENT_TIMEOUT_SEC = 2;
/** Arguments kept from one EXECVE record (argc is read from the log: never trusted). */
export const MAX_ARGS = 256;
/** Characters kept of one command line. */
export const MAX_COMMAND_LINE = 8192;

/** EINPROGRESS (asm-generic/errno.h 115): the connect is under way. */
const EINPROGRESS = '-115';

const SOCKET_CALLS = new Set(['connect', 'accept', 'accept4', 'bind']);
const EXEC_CALLS = new Set(['execve', 'execveat']);

interface Pending {
  ts: number;
  line: number;
  node?: string;
  syscall?: AuditRecord;
  saddr?: string;
  execve?: AuditRecord;
  proctitle?: string;
}

/** EXECVE a0..aN, including arguments split in pieces (aN_len=, aN[0]=, aN[1]=...). */
function execArgs(r: AuditRecord): string[] {
  const args: string[] = [];
  for (let i = 0; i < MAX_ARGS; i++) {
    const whole = r.fields.get(`a${i}`);
    if (whole !== undefined) {
      args.push(decodeAuditString(whole) ?? '');
      continue;
    }
    if (!r.fields.has(`a${i}_len`)) break;
    let joined = '';
    for (let k = 0; k < MAX_ARGS; k++) {
      const piece = r.fields.get(`a${i}[${k}]`);
      if (piece === undefined) break;
      joined += decodeAuditString(piece) ?? '';
    }
    args.push(joined);
  }
  return args;
}

function commandLine(args: string[]): string {
  return args.join(' ').slice(0, MAX_COMMAND_LINE);
}

function basename(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

function intField(r: AuditRecord, key: string): number | undefined {
  const v = r.fields.get(key);
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  return Number(v);
}

export class AuditdReader implements EndpointReader {
  readonly format = 'auditd';
  malformed = 0;
  private readonly pending = new Map<string, Pending>();

  push(line: string, lineNo: number): EndpointEvent[] {
    if (line.trim() === '') return [];
    const rec = parseAuditRecord(line);
    if (rec === null) {
      this.malformed++;
      return [];
    }
    const out: EndpointEvent[] = [];
    // Close what is older than the timeout, in arrival order (Map keeps insertion order).
    for (const [key, p] of this.pending) {
      if (rec.ts - p.ts <= EVENT_TIMEOUT_SEC) break;
      this.pending.delete(key);
      this.close(p, out);
    }
    let p = this.pending.get(rec.key);
    if (p === undefined) {
      if (rec.type === 'EOE') return out;
      if (this.pending.size >= MAX_PENDING_EVENTS) {
        const [oldest, q] = this.pending.entries().next().value!;
        this.pending.delete(oldest);
        this.close(q, out);
      }
      p = { ts: rec.ts, line: lineNo, node: rec.node };
      this.pending.set(rec.key, p);
    }
    switch (rec.type) {
      case 'SYSCALL': p.syscall = rec; break;
      case 'SOCKADDR': p.saddr = rec.fields.get('saddr'); break;
      case 'EXECVE': p.execve = rec; break;
      case 'PROCTITLE': p.proctitle = decodeAuditString(rec.fields.get('proctitle')); break;
      case 'EOE':
        this.pending.delete(rec.key);
        this.close(p, out);
        break;
      default: break; // CWD, PATH, user-space records: nothing the join uses
    }
    return out;
  }

  end(): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    for (const p of this.pending.values()) this.close(p, out);
    this.pending.clear();
    return out;
  }

  private close(p: Pending, out: EndpointEvent[]): void {
    const s = p.syscall;
    if (s === undefined) {
      // An EXECVE without its SYSCALL record: auditd dropped it (backlog full, rate limit)
      // or the log is an excerpt. The command line still says what ran; with no pid it can
      // only be read, not linked to a socket.
      if (p.execve !== undefined) {
        const e = this.execOnly(p, p.execve);
        if (e !== null) out.push(e);
      }
      return;
    }
    const call = syscallName(s);
    if (call === undefined) return;
    const ok = s.fields.get('success') === 'yes';
    if (EXEC_CALLS.has(call)) {
      if (ok) out.push(this.event(p, s, 'exec', call));
      return;
    }
    if (!SOCKET_CALLS.has(call)) return;
    if (!ok && !(call === 'connect' && s.fields.get('exit') === EINPROGRESS)) return;
    const addr = decodeSaddr(p.saddr);
    if (addr === null) return; // AF_UNIX, netlink, or no SOCKADDR record
    if (call === 'bind') {
      if (addr.port === 0) return; // an ephemeral port chosen later: nothing to listen on
      const e = this.event(p, s, 'listen', call);
      e.source = addr;
      out.push(e);
      return;
    }
    const e = this.event(p, s, call === 'connect' ? 'connect' : 'accept', call);
    e.destination = addr;
    e.network = { direction: call === 'connect' ? 'egress' : 'ingress' };
    out.push(e);
  }

  private execOnly(p: Pending, rec: AuditRecord): EndpointEvent | null {
    const args = execArgs(rec);
    if (args.length === 0) return null;
    return {
      '@timestamp': new Date(Math.round(p.ts * 1000)).toISOString(),
      ts: p.ts,
      host: p.node !== undefined ? { name: p.node } : {},
      process: { name: basename(args[0]), args, command_line: commandLine(args) },
      event: { action: 'exec', module: 'auditd', code: 'execve', line: p.line },
      platform: 'linux',
    };
  }

  private event(p: Pending, s: AuditRecord, action: EndpointEvent['event']['action'],
    call: string): EndpointEvent {
    const exe = decodeAuditString(s.fields.get('exe'));
    const proc: EndpointProcess = {
      pid: intField(s, 'pid'),
      name: decodeAuditString(s.fields.get('comm')) ?? basename(exe),
      executable: exe,
      parent: { pid: intField(s, 'ppid') },
    };
    if (p.execve !== undefined) {
      const args = execArgs(p.execve);
      if (args.length > 0) {
        proc.args = args;
        proc.command_line = commandLine(args);
      }
    }
    if (proc.command_line === undefined && p.proctitle !== undefined) {
      // NULs separate argv in /proc/PID/cmdline; the kernel cuts it at 128 bytes.
      proc.command_line = p.proctitle.replace(/\0+$/, '').replace(/\0/g, ' ');
    }
    const userName = unquote(s.interpreted.get('UID')) ?? s.fields.get('uid');
    const e: EndpointEvent = {
      '@timestamp': new Date(Math.round(p.ts * 1000)).toISOString(),
      ts: p.ts,
      host: p.node !== undefined ? { name: p.node } : {},
      process: proc,
      event: { action, module: 'auditd', code: call, line: p.line },
      platform: 'linux',
    };
    if (userName !== undefined) e.user = { name: userName };
    return e;
  }
}

/** Share of the first lines that are audit records. */
function detectAuditd(lines: string[]): number {
  if (lines.length === 0) return 0;
  const hits = lines.filter((l) => parseAuditRecord(l) !== null).length;
  return hits === 0 ? 0 : 0.9 * (hits / lines.length);
}

registerReader('auditd', detectAuditd, () => new AuditdReader());
