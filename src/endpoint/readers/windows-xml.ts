// Windows event XML as wevtutil, Get-WinEvent .ToXml() and evtx_dump.py write it: one
// <Event> element per record, often inside an <Events> wrapper, one or many lines each.
// Records are framed by their <Event ...> and </Event> tags and each is parsed with
// sax; the framing is bounded, so a truncated record is dropped and counted.
//
// Registered twice, as 'sysmon-xml' and 'winsec-xml': the reader is the same (the channel is
// read from each record), the names only tell what detection saw.

import sax from 'sax';
import type { EndpointEvent } from '../event';
import { registerReader, type EndpointReader } from './reader';
import { int, toSeconds } from './util';
import { mapWindowsRecord, type WinRecord } from './windows-event';

/** Largest record kept while looking for </Event>; the event log's own limit is 64 KiB. */
export const MAX_XML_RECORD_CHARS = 256 * 1024;
/** Element depth past which a record is not an event (Event/UserData/EventXML/Param is 4). */
const MAX_XML_DEPTH = 16;

const EVENT_OPEN = /<Event[\s>]/;
const EVENT_CLOSE = '</Event>';
/** Lines outside records that are part of the document, not garbage. */
const WRAPPER_LINE = /^\s*(<\?xml|<\/?Events\b|<!--)/;

function findOpen(s: string, from: number): number {
  const m = EVENT_OPEN.exec(s.slice(from));
  return m ? m.index + from : -1;
}

/** Element name without a namespace prefix. */
function local(name: string): string {
  const cut = name.indexOf(':');
  return cut >= 0 ? name.slice(cut + 1) : name;
}

/**
 * One <Event> element as a WinRecord, read with sax in strict mode (which rejects what is not
 * well-formed XML and decodes entities and character references). Null when the record is
 * not well-formed or has no numeric EventID.
 */
export function winRecordFromXml(xml: string, line: number): WinRecord | null {
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false });
  const path: string[] = [];
  const sys: Record<string, string> = {};
  const data: Record<string, string> = {};
  let text: string | null = null; // text of the element being captured
  let dataName = '';
  let unnamed = 0;
  let failed = false;

  parser.onerror = () => {
    failed = true;
    throw new Error('not well-formed');
  };
  parser.onopentag = (tag) => {
    const name = local(tag.name);
    const attrs = tag.attributes as Record<string, string>;
    path.push(name);
    if (path.length > MAX_XML_DEPTH) parser.onerror(new Error('too deep'));
    const parent = path[path.length - 2];
    text = null;
    if (parent === 'System') {
      if (name === 'Provider') sys.provider = attrs.Name ?? '';
      else if (name === 'TimeCreated') sys.time = attrs.SystemTime ?? '';
      else if (name === 'Execution') sys.execPid = attrs.ProcessID ?? '';
      else if (name === 'EventID' || name === 'Channel' || name === 'Computer') text = '';
    } else if (parent === 'EventData' && name === 'Data') {
      dataName = attrs.Name ?? `Data${unnamed++}`;
      text = '';
    } else if (path.length === 4 && path[1] === 'UserData') {
      // UserData holds one provider-defined element (EventXML for TerminalServices 1149).
      dataName = name;
      text = '';
    }
  };
  parser.ontext = (t) => {
    if (text !== null) text += t;
  };
  parser.oncdata = parser.ontext;
  parser.onclosetag = () => {
    const name = path.pop();
    if (text === null || name === undefined) return;
    const parent = path[path.length - 1];
    if (parent === 'System') sys[name] = text;
    else data[dataName] = text;
    text = null;
  };
  try {
    parser.write(xml).close();
  } catch {
    failed = true;
  }
  const eventId = int((sys.EventID ?? '').trim(), 0xffff);
  if (failed || eventId === undefined) return null;
  return {
    provider: sys.provider ?? '',
    channel: sys.Channel ?? '',
    eventId,
    time: toSeconds(sys.time ?? ''),
    computer: sys.Computer || undefined,
    execPid: int(sys.execPid),
    data,
    line,
  };
}

class WindowsXmlReader implements EndpointReader {
  malformed = 0;
  private buf = '';
  private startLine = 0;
  private inRecord = false;

  constructor(readonly format: string) {}

  push(line: string, lineNo: number): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    let rest = line;
    while (rest !== '') {
      if (!this.inRecord) {
        const m = EVENT_OPEN.exec(rest);
        if (!m) {
          if (rest.trim() !== '' && !WRAPPER_LINE.test(rest)) this.malformed++;
          break;
        }
        this.inRecord = true;
        this.startLine = lineNo;
        rest = rest.slice(m.index);
        this.buf = '';
      }
      // A new <Event> before this one closed: the open record was truncated.
      const reopen = findOpen(rest, this.buf === '' ? 1 : 0);
      const close = rest.indexOf(EVENT_CLOSE);
      if (reopen >= 0 && (close < 0 || reopen < close)) {
        this.malformed++;
        this.inRecord = false;
        this.buf = '';
        rest = rest.slice(reopen);
        continue;
      }
      if (close < 0) {
        this.buf += rest + '\n';
        if (this.buf.length > MAX_XML_RECORD_CHARS) {
          this.malformed++;
          this.inRecord = false;
          this.buf = '';
        }
        break;
      }
      const record = this.buf + rest.slice(0, close + EVENT_CLOSE.length);
      rest = rest.slice(close + EVENT_CLOSE.length);
      this.inRecord = false;
      this.buf = '';
      for (const ev of this.parseRecord(record)) out.push(ev);
    }
    return out;
  }

  end(): EndpointEvent[] {
    if (this.inRecord) this.malformed++;
    this.inRecord = false;
    this.buf = '';
    return [];
  }

  private parseRecord(text: string): EndpointEvent[] {
    const rec = winRecordFromXml(text, this.startLine);
    if (!rec) {
      this.malformed++;
      return [];
    }
    const events = mapWindowsRecord(rec);
    if (events === null) this.malformed++;
    return events ?? [];
  }
}

function looksLikeEventXml(lines: string[]): boolean {
  return lines.some((l) => EVENT_OPEN.test(l)) && lines.some((l) => l.includes('<EventID'));
}

registerReader(
  'sysmon-xml',
  (lines) =>
    looksLikeEventXml(lines) && lines.some((l) => l.includes('Microsoft-Windows-Sysmon'))
      ? 0.95
      : 0,
  () => new WindowsXmlReader('sysmon-xml'),
);
registerReader(
  'winsec-xml',
  (lines) => (looksLikeEventXml(lines) ? 0.9 : 0),
  () => new WindowsXmlReader('winsec-xml'),
);
