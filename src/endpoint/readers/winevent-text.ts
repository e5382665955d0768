// Classic (non-XML) WinEventLog text as Splunk's Windows inputs and some forwarders write it:
// a time line ('03/12/2021 10:48:14 AM'), key=value header lines (LogName, SourceName,
// EventCode, ComputerName, ...), then Message= and the rendered message, whose
// 'Label:<tab>value' lines sit under section headers ('Creator Subject:', 'Network
// Information:'). The labels are turned back into the EventData names of the XML form so
// that windows-event.ts maps both the same way.
//
// Known gap: the time line carries no zone (it is the forwarder's local time); it is read
// as UTC. A feed from a host in another zone is off by that zone's offset.

import type { EndpointEvent } from '../event';
import { registerReader, type EndpointReader } from './reader';
import { int } from './util';
import { mapWindowsRecord, type WinRecord } from './windows-event';

/** Lines one record may take; Security messages run to ~60, a runaway one is cut here. */
export const MAX_TEXT_RECORD_LINES = 400;

const RECORD_START = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d) ([AP]M)$/;
const HEADER = /^([A-Za-z]+)=(.*)$/;
const LABEL = /^\s*([A-Za-z][A-Za-z ]*?):\s*(.*)$/;

/** Message labels (Security audit rendering) to their EventData names. */
const LABELS: Record<string, string> = {
  'New Process ID': 'NewProcessId',
  'New Process Name': 'NewProcessName',
  'Creator Process ID': 'ProcessId',
  'Creator Process Name': 'ParentProcessName',
  'Process Command Line': 'CommandLine',
  'Process ID': 'ProcessId',
  'Process Name': 'ProcessName',
  'Application Name': 'Application',
  'Source Address': 'SourceAddress',
  'Source Port': 'SourcePort',
  'Destination Address': 'DestAddress',
  'Destination Port': 'DestPort',
  'Source Network Address': 'IpAddress',
  'Logon Type': 'LogonType',
};
/** Account Name/Domain belong to the subject or the target depending on their section. */
const TARGET_SECTIONS = new Set(['Target Subject', 'New Logon']);

function timeOf(m: RegExpExecArray): number | undefined {
  let hour = Number(m[4]) % 12;
  if (m[7] === 'PM') hour += 12;
  const ms = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), hour, Number(m[5]), +m[6]);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

class WinEventTextReader implements EndpointReader {
  readonly format = 'winevent-text';
  malformed = 0;
  private lines: string[] = [];
  private startLine = 0;

  push(line: string, lineNo: number): EndpointEvent[] {
    if (RECORD_START.test(line.trim())) {
      const out = this.flush();
      this.lines = [line.trim()];
      this.startLine = lineNo;
      return out;
    }
    if (this.lines.length === 0) {
      if (line.trim() !== '') this.malformed++;
      return [];
    }
    if (this.lines.length >= MAX_TEXT_RECORD_LINES) {
      this.malformed++;
      this.lines = [];
      return [];
    }
    this.lines.push(line);
    return [];
  }

  end(): EndpointEvent[] {
    return this.flush();
  }

  private flush(): EndpointEvent[] {
    if (this.lines.length === 0) return [];
    const rec = this.record();
    this.lines = [];
    if (!rec) {
      this.malformed++;
      return [];
    }
    const events = mapWindowsRecord(rec);
    if (events === null) this.malformed++;
    return events ?? [];
  }

  private record(): WinRecord | null {
    const time = timeOf(RECORD_START.exec(this.lines[0]) as RegExpExecArray);
    const head: Record<string, string> = {};
    const data: Record<string, string> = {};
    let inMessage = false;
    let section = '';
    for (const raw of this.lines.slice(1)) {
      if (!inMessage) {
        const h = HEADER.exec(raw.trim());
        if (!h) continue;
        head[h[1]] = h[2];
        if (h[1] === 'Message') inMessage = true;
        continue;
      }
      const m = LABEL.exec(raw);
      if (!m) continue;
      const [label, value] = [m[1].trim(), m[2].trim()];
      if (value === '' && !/^\s/.test(raw)) {
        section = label; // a section header such as 'Process Information:'
        continue;
      }
      if (label === 'Account Name' || label === 'Account Domain') {
        const who = TARGET_SECTIONS.has(section) ? 'Target' : 'Subject';
        data[`${who}${label === 'Account Name' ? 'UserName' : 'DomainName'}`] = value;
      } else if (section === 'Network Information' && label === 'Direction') {
        data.Direction = value;
      } else if (data[LABELS[label] ?? label.replace(/ /g, '')] === undefined) {
        // First one wins: 4624 repeats 'Process ID' nowhere else, Sysmon's labels are the
        // EventData names already (ProcessId, Image, CommandLine...).
        data[LABELS[label] ?? label.replace(/ /g, '')] = value;
      }
    }
    // 4624 names the client port 'Source Port' under Network Information.
    if (head.EventCode === '4624' && data.IpPort === undefined) data.IpPort = data.SourcePort;
    const eventId = int(head.EventCode, 0xffff);
    if (eventId === undefined || time === undefined) return null;
    return {
      provider: head.SourceName ?? '',
      channel: head.LogName ?? '',
      eventId,
      time,
      computer: head.ComputerName,
      data,
      line: this.startLine,
    };
  }
}

registerReader(
  'winevent-text',
  (lines) =>
    RECORD_START.test(lines[0]?.trim() ?? '') &&
    lines.some((l) => l.startsWith('LogName=')) &&
    lines.some((l) => l.startsWith('EventCode='))
      ? 0.95
      : 0,
  () => new WinEventTextReader(),
);
