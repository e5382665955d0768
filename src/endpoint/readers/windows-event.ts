// One Windows event log record, whichever rendering it came in (event XML, evtx_dump JSON,
// Splunk-style WinEventLog text), and its mapping to EndpointEvents. Keeping one record shape
// means Sysmon, Security, TerminalServices and OpenSSH channels are mapped once.
//
// Sources for the field meanings: Sysmon's event schema (events 1, 3, 5, 13), Microsoft's
// Security audit event reference (4624, 4688, 4689, 5154, 5156, 5158), the
// TerminalServices-RemoteConnectionManager 1149 UserData (Param1 user, Param2 domain,
// Param3 client address) and the OpenSSH for Windows Operational channel (sshd log lines).

import type { EndpointEvent } from '../event';
import {
  basename, int, ip, makeEvent, port, str, toSeconds, transportOf, type EventParts,
} from './util';

export interface WinRecord {
  provider: string;
  channel: string;
  eventId: number;
  /** TimeCreated, seconds. */
  time?: number;
  computer?: string;
  /** System/Execution ProcessID: the process that wrote the event. */
  execPid?: number;
  /** EventData Data Name=value, or the children of UserData's single element. */
  data: Record<string, string>;
  line: number;
}

/** Windows Filtering Platform direction, as an %%id or rendered text (5156). */
const WFP_INBOUND = new Set(['%%14592', 'inbound']);
const WFP_OUTBOUND = new Set(['%%14593', 'outbound']);
/**
 * Windows' default dynamic port range (49152-65535). A 5158 bind there is almost always the
 * implicit bind before an outbound connect, not a listener, so it is not reported as listen.
 */
const WINDOWS_DYNAMIC_PORT_MIN = 49152;

const SYSMON_PROVIDER = 'microsoft-windows-sysmon';

/** 'DOMAIN\user' (Sysmon User) split in two. */
function userOf(v: string | undefined): { name?: string; domain?: string } | undefined {
  if (v === undefined) return undefined;
  const cut = v.indexOf('\\');
  return cut >= 0 ? { domain: v.slice(0, cut), name: v.slice(cut + 1) } : { name: v };
}

/** SHA256=... out of Sysmon's Hashes list. */
function sha256Of(hashes: string | undefined): { sha256: string } | undefined {
  const m = hashes ? /(?:^|,)SHA256=([0-9A-Fa-f]{64})/.exec(hashes) : null;
  return m ? { sha256: m[1].toLowerCase() } : undefined;
}

function base(rec: WinRecord, module: string, ts: number | undefined): Omit<EventParts, 'action'> {
  return {
    ts: ts ?? rec.time ?? 0,
    module,
    platform: 'windows',
    line: rec.line,
    code: String(rec.eventId),
    host: { name: rec.computer },
  };
}

function mapSysmon(rec: WinRecord): EndpointEvent[] {
  const d = rec.data;
  const ts = sysmonTime(d.UtcTime) ?? rec.time;
  const b = base(rec, 'sysmon', ts);
  const image = str(d.Image);
  const proc = { pid: int(d.ProcessId), executable: image, name: basename(image) };
  const entity = str(d.ProcessGuid);
  switch (rec.eventId) {
    case 1: {
      const parentImage = str(d.ParentImage);
      return [
        makeEvent({
          ...b,
          action: 'exec',
          user: userOf(str(d.User)),
          process: {
            ...proc,
            command_line: str(d.CommandLine),
            entity_id: entity,
            hash: sha256Of(str(d.Hashes)),
            parent: {
              pid: int(d.ParentProcessId),
              executable: parentImage,
              name: basename(parentImage),
              command_line: str(d.ParentCommandLine),
            },
          },
        }),
      ];
    }
    case 3: {
      // Sysmon reports the local end as Source whichever side initiated (Initiated=false for
      // an accepted connection still lists the local listener first).
      const initiated = (d.Initiated ?? '').toLowerCase() === 'true';
      return [
        makeEvent({
          ...b,
          action: initiated ? 'connect' : 'accept',
          user: userOf(str(d.User)),
          process: { ...proc, entity_id: entity },
          source: { ip: ip(d.SourceIp), port: port(d.SourcePort) },
          destination: { ip: ip(d.DestinationIp), port: port(d.DestinationPort) },
          transport: transportOf(d.Protocol),
          direction: initiated ? 'egress' : 'ingress',
        }),
      ];
    }
    case 5:
      return [makeEvent({ ...b, action: 'exit', process: { ...proc, entity_id: entity } })];
    case 13: {
      // Only netsh interface portproxy settings matter here (the v4tov4/v6tov4 tables).
      const key = str(d.TargetObject);
      if (!key || !/\\services\\portproxy\\/i.test(key)) return [];
      return [
        makeEvent({
          ...b,
          action: 'config',
          process: { ...proc, entity_id: entity },
          setting: { key, value: d.Details ?? '' },
        }),
      ];
    }
    default:
      return [];
  }
}

/** Sysmon UtcTime 'YYYY-MM-DD HH:MM:SS.mmm' is UTC; toSeconds also refuses absurd years. */
function sysmonTime(v: string | undefined): number | undefined {
  return v === undefined ? undefined : toSeconds(v);
}

function mapSecurity(rec: WinRecord): EndpointEvent[] {
  const d = rec.data;
  const b = base(rec, 'winsec', rec.time);
  const targetUser = str(d.TargetUserName);
  const user =
    targetUser !== undefined
      ? { name: targetUser, domain: str(d.TargetDomainName) }
      : { name: str(d.SubjectUserName), domain: str(d.SubjectDomainName) };
  switch (rec.eventId) {
    case 4688: {
      // NewProcessId and ProcessId (the creator) are hex strings such as 0x578.
      const exe = str(d.NewProcessName);
      const parentExe = str(d.ParentProcessName);
      return [
        makeEvent({
          ...b,
          action: 'exec',
          user,
          process: {
            pid: int(d.NewProcessId),
            executable: exe,
            name: basename(exe),
            command_line: str(d.CommandLine),
            parent: { pid: int(d.ProcessId), executable: parentExe, name: basename(parentExe) },
          },
        }),
      ];
    }
    case 4689: {
      const exe = str(d.ProcessName);
      const proc = { pid: int(d.ProcessId), executable: exe, name: basename(exe) };
      return [makeEvent({ ...b, action: 'exit', user, process: proc })];
    }
    case 5156:
      return mapWfpConnection(rec, b);
    case 5154:
    case 5158: {
      const p = port(d.SourcePort);
      if (p === undefined || (rec.eventId === 5158 && p >= WINDOWS_DYNAMIC_PORT_MIN)) return [];
      return [
        makeEvent({
          ...b,
          action: 'listen',
          process: wfpProcess(d),
          source: { ip: ip(d.SourceAddress), port: p },
          transport: transportOf(d.Protocol),
        }),
      ];
    }
    case 4624: {
      // A logon is a socket fact only when it names the remote address (network, RDP
      // logons). The logon type rides in event.code as '4624/<LogonType>'.
      const remote = ip(d.IpAddress);
      if (remote === undefined) return [];
      const exe = str(d.ProcessName);
      return [
        makeEvent({
          ...b,
          action: 'accept',
          code: `4624/${str(d.LogonType) ?? '?'}`,
          user,
          process: { pid: int(d.ProcessId), executable: exe, name: basename(exe) },
          destination: { ip: remote, port: port(d.IpPort) || undefined },
          direction: 'ingress',
        }),
      ];
    }
    default:
      return [];
  }
}

/** WFP events name the process by its NT device path (\device\harddiskvolume2\...). */
function wfpProcess(d: Record<string, string>): EventParts['process'] {
  const app = str(d.Application);
  return { pid: int(d.ProcessID ?? d.ProcessId), executable: app, name: basename(app) };
}

function mapWfpConnection(rec: WinRecord, b: Omit<EventParts, 'action'>): EndpointEvent[] {
  const d = rec.data;
  const dir = (d.Direction ?? '').trim().toLowerCase();
  const inbound = WFP_INBOUND.has(dir);
  if (!inbound && !WFP_OUTBOUND.has(dir)) return [];
  // 5156 lists the local address first (SourceAddress) in both directions.
  return [
    makeEvent({
      ...b,
      action: inbound ? 'accept' : 'connect',
      process: wfpProcess(d),
      source: { ip: ip(d.SourceAddress), port: port(d.SourcePort) },
      destination: { ip: ip(d.DestAddress), port: port(d.DestPort) },
      transport: transportOf(d.Protocol),
      direction: inbound ? 'ingress' : 'egress',
    }),
  ];
}

/** 1149: "Remote Desktop Services: User authentication succeeded" with the client address. */
function mapRdpAuth(rec: WinRecord): EndpointEvent[] {
  const remote = ip(rec.data.Param3);
  if (rec.eventId !== 1149 || remote === undefined) return [];
  return [
    makeEvent({
      ...base(rec, 'winsec', rec.time),
      action: 'accept',
      user: { name: str(rec.data.Param1), domain: str(rec.data.Param2) },
      // The writer is the svchost hosting TermService; no port is given.
      process: { pid: rec.execPid },
      destination: { ip: remote },
      direction: 'ingress',
    }),
  ];
}

/** OpenSSH for Windows logs sshd's own lines as the payload of events 4 (info) etc. */
function mapOpenSsh(rec: WinRecord): EndpointEvent[] {
  const payload = rec.data.payload ?? '';
  const b = base(rec, 'openssh', rec.time);
  const proc = { pid: rec.execPid, name: str(rec.data.process) };
  let m = /^Server listening on (\S+) port (\d+)\.?$/.exec(payload.trim());
  if (m) {
    const local = { ip: ip(m[1]), port: port(m[2]) };
    return [makeEvent({ ...b, action: 'listen', process: proc, source: local, transport: 'tcp' })];
  }
  m = /^Connection from (\S+) port (\d+) on (\S+) port (\d+)/.exec(payload.trim());
  if (m) {
    return [
      makeEvent({
        ...b,
        action: 'accept',
        process: proc,
        source: { ip: ip(m[3]), port: port(m[4]) },
        destination: { ip: ip(m[1]), port: port(m[2]) },
        transport: 'tcp',
        direction: 'ingress',
      }),
    ];
  }
  m = /^Accepted \S+ for (\S+) from (\S+) port (\d+)/.exec(payload.trim());
  if (m) {
    return [
      makeEvent({
        ...b,
        action: 'accept',
        process: proc,
        user: { name: m[1] },
        destination: { ip: ip(m[2]), port: port(m[3]) },
        transport: 'tcp',
        direction: 'ingress',
      }),
    ];
  }
  return [];
}

/**
 * Every EndpointEvent one record yields (none for channels and ids that carry no fact), or
 * null for a record of a channel mapped here that has no usable time: every Windows event
 * has one (Sysmon's UtcTime may stand in), and the join is by time, so such a record is
 * malformed, and counted as such rather than dropped without a word.
 */
export function mapWindowsRecord(rec: WinRecord): EndpointEvent[] | null {
  const provider = rec.provider.toLowerCase();
  const channel = rec.channel.toLowerCase();
  const sysmon = provider === SYSMON_PROVIDER || channel === 'microsoft-windows-sysmon/operational';
  const map = sysmon ? mapSysmon
    : channel === 'security' ? mapSecurity
      : channel.startsWith('microsoft-windows-terminalservices-remoteconnectionmanager')
        ? mapRdpAuth
        : channel.startsWith('openssh/') ? mapOpenSsh : null;
  if (map === null) return [];
  if (rec.time === undefined && !(sysmon && sysmonTime(rec.data.UtcTime) !== undefined)) {
    return null;
  }
  return map(rec);
}
