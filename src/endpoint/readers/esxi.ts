// ESXi and vCenter syslog lines, and `esxcli network ip connection list` output.
//
// Syslog: RFC 3164-like lines from the ESXi host (`<pri>TIMESTAMP HOST prog[pid]: msg`) and
// RFC 5424 lines from vCenter (`<pri>1 TIMESTAMP HOST app procid - - msg`). Mapped facts:
// the shell audit record `shell[pid]: [shell.cmd@6876 ... command="..."]` (a command run in
// the ESXi Shell: exec, the shell as parent), hostd/vpxd login events naming a client
// address ("User root@127.0.0.1 logged in": accept with that remote address), and sshd's
// own lines (listening, connection from). Other lines are valid but carry no fact.
//
// esxcli: the fixed-column table (Proto, Recv Q, Send Q, Local Address, Foreign Address,
// State, World ID, CC Algo, World Name). It has no time: events get the time the reader was
// created (the moment the snapshot is read), and the World ID stands in for the pid.

import type { EndpointEvent } from '../event';
import { registerReader, type EndpointReader } from './reader';
import { isUnspecified, SocketRoleGuesser } from './socket-role';
import { int, ip, makeEvent, port, toSeconds, transportOf } from './util';

const SYSLOG_3164 = /^<(\d{1,3})>(\d{4}-\d\d-\d\dT\S+)\s+(\S+)\s+([\w.-]+)(?:\[(\d+)\])?:\s?(.*)$/;
const SYSLOG_5424 = /^<(\d{1,3})>1\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s+(?:-|\[.*?\])\s?(.*)$/;
const SHELL_CMD = /\[shell\.cmd@\d+ ([^\]]*)\]/;
const SD_PARAM = /(\w+)="((?:[^"\\]|\\.)*)"/g;
const LOGIN_FROM = /User (\S+?)@([0-9A-Fa-f.:]+) logged in/;
const SSHD_LISTEN = /^Server listening on (\S+) port (\d+)/;
const SSHD_CONN = /^Connection from (\S+) port (\d+) on (\S+) port (\d+)/;
const SSHD_ACCEPTED = /^Accepted \S+ for (\S+) from (\S+) port (\d+)/;

/** ESXi has its own platform value; vCenter (vpxd) lines are about the same estate. */
function mapSyslog(line: string, lineNo: number): EndpointEvent[] | null {
  const m = SYSLOG_3164.exec(line) ?? SYSLOG_5424.exec(line);
  if (!m) return null;
  const ts = toSeconds(m[2]);
  if (ts === undefined) return null;
  const prog = m[4];
  const pid = int(m[5]);
  const msg = m[6];
  const host = { name: m[3] };
  const base = { ts, module: 'esxi', platform: 'esxi', line: lineNo, host } as const;
  const shell = SHELL_CMD.exec(msg);
  if (shell) {
    const sd: Record<string, string> = {};
    for (const p of shell[1].matchAll(SD_PARAM)) sd[p[1]] = p[2].replace(/\\(.)/g, '$1');
    if (sd.command === undefined) return [];
    return [
      makeEvent({
        ...base,
        action: 'exec',
        code: 'shell.cmd',
        user: { name: sd.subject },
        process: { command_line: sd.command, parent: { pid, name: prog } },
      }),
    ];
  }
  const login = LOGIN_FROM.exec(msg);
  if (login) {
    return [
      makeEvent({
        ...base,
        action: 'accept',
        code: 'login',
        user: { name: login[1] },
        process: { pid, name: prog },
        destination: { ip: ip(login[2]) },
        direction: 'ingress',
      }),
    ];
  }
  const listen = prog === 'sshd' ? SSHD_LISTEN.exec(msg) : null;
  if (listen) {
    const src = { ip: ip(listen[1]), port: port(listen[2]) };
    const proc = { pid, name: prog };
    return [makeEvent({ ...base, action: 'listen', process: proc, source: src, transport: 'tcp' })];
  }
  const conn = prog === 'sshd' ? SSHD_CONN.exec(msg) : null;
  if (conn) {
    return [
      makeEvent({
        ...base,
        action: 'accept',
        process: { pid, name: prog },
        source: { ip: ip(conn[3]), port: port(conn[4]) },
        destination: { ip: ip(conn[1]), port: port(conn[2]) },
        transport: 'tcp',
        direction: 'ingress',
      }),
    ];
  }
  const accepted = prog === 'sshd' ? SSHD_ACCEPTED.exec(msg) : null;
  if (accepted) {
    return [
      makeEvent({
        ...base,
        action: 'accept',
        user: { name: accepted[1] },
        process: { pid, name: prog },
        destination: { ip: ip(accepted[2]), port: port(accepted[3]) },
        transport: 'tcp',
        direction: 'ingress',
      }),
    ];
  }
  return [];
}

class EsxiSyslogReader implements EndpointReader {
  readonly format = 'esxi';
  malformed = 0;

  push(line: string, lineNo: number): EndpointEvent[] {
    if (line.trim() === '') return [];
    const events = mapSyslog(line.trim(), lineNo);
    if (events === null) this.malformed++;
    return events ?? [];
  }

  end(): EndpointEvent[] {
    return [];
  }
}

/** Splits 'addr:port' where addr may be IPv6 with colons. */
function hostPort(v: string): { ip?: string; port?: number } {
  const cut = v.lastIndexOf(':');
  if (cut < 0) return {};
  return { ip: ip(v.slice(0, cut)), port: port(v.slice(cut + 1)) || undefined };
}

/** Rows of an esxcli connection list are buffered to the end (bounded) to learn listeners. */
export const MAX_ESXCLI_ROWS = 100_000;

class EsxcliReader implements EndpointReader {
  readonly format = 'esxcli';
  malformed = 0;
  private readonly ts = Date.now() / 1000;
  private rows: { cols: string[]; line: number }[] = [];
  private roles = new SocketRoleGuesser();

  push(line: string, lineNo: number): EndpointEvent[] {
    const t = line.trim();
    if (t === '' || /^Proto\s/.test(t) || /^-+(\s+-+)*$/.test(t)) return [];
    const cols = t.split(/\s+/);
    if (cols.length < 7 || !transportOf(cols[0]) || !cols[3].includes(':')) {
      this.malformed++;
      return [];
    }
    if (cols[5] === 'LISTEN') this.roles.noteListen(hostPort(cols[3]).port);
    if (this.rows.length >= MAX_ESXCLI_ROWS) return this.flush(cols, lineNo);
    this.rows.push({ cols, line: lineNo });
    return [];
  }

  end(): EndpointEvent[] {
    const out = this.rows.flatMap((r) => this.mapRow(r.cols, r.line));
    this.rows = [];
    return out;
  }

  private flush(cols: string[], line: number): EndpointEvent[] {
    return [...this.end(), ...this.mapRow(cols, line)];
  }

  private mapRow(cols: string[], line: number): EndpointEvent[] {
    const [proto, , , localText, remoteText, stateCol, worldCol, ...rest] = cols;
    // UDP rows have no state: the columns shift left by one.
    const hasState = !/^\d+$/.test(stateCol);
    const worldId = int(hasState ? worldCol : stateCol);
    const worldName = (hasState ? rest.slice(1) : [worldCol, ...rest]).join(' ');
    // (UDP rows have no CC Algo either, so the name follows the World ID directly.)
    const state = hasState ? stateCol : '';
    const local = hostPort(localText);
    const remote = hostPort(remoteText);
    const listening = state === 'LISTEN' || (!hasState && isUnspecified(remote.ip));
    if (!listening && state !== 'ESTABLISHED' && hasState) return [];
    const action = listening ? 'listen' : this.roles.role(local.port, remote.port);
    return [
      makeEvent({
        ts: this.ts,
        action,
        module: 'esxcli',
        platform: 'esxi',
        line,
        code: listening ? 'esxcli' : 'esxcli/guessed',
        process: { pid: worldId, name: worldName || undefined },
        source: local,
        destination: listening ? undefined : remote,
        transport: transportOf(proto),
      }),
    ];
  }
}

registerReader(
  'esxi',
  (lines) => {
    const hits = lines.filter((l) => SYSLOG_3164.test(l.trim()) || SYSLOG_5424.test(l.trim()));
    const esxi = lines.some((l) => /\b(Hostd|hostd|vpxd|vpxa|shell|vmkernel)\b/.test(l));
    return hits.length / lines.length > 0.5 ? (esxi ? 0.9 : 0.5) : 0;
  },
  () => new EsxiSyslogReader(),
);
registerReader(
  'esxcli',
  (lines) => (/^Proto\s+Recv Q\s+Send Q\s+Local Address/.test(lines[0]?.trim() ?? '') ? 0.95 : 0),
  () => new EsxcliReader(),
);
