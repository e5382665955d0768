// Windows event XML as wevtutil, Get-WinEvent .ToXml() and evtx_dump.py write it: one
// <Event> element per record, often inside an <Events> wrapper, one or many lines each.
// Records are framed by their <Event ...> and </Event> tags and each is parsed with
// fast-xml-parser; the framing is bounded, so a truncated record is dropped and counted.
//
// Registered twice, as 'sysmon-xml' and 'winsec-xml': the reader is the same (the channel is
// read from each record), the names only tell what detection saw.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { EndpointEvent } from '../event';
import { registerReader, type EndpointReader } from './reader';
import { obj, toSeconds, int } from './util';
import { mapWindowsRecord, type WinRecord } from './windows-event';

/** Largest record kept while looking for </Event>; the event log's own limit is 64 KiB. */
export const MAX_XML_RECORD_CHARS = 256 * 1024;

const EVENT_OPEN = /<Event[\s>]/;
const EVENT_CLOSE = '</Event>';
/** Lines outside records that are part of the document, not garbage. */
const WRAPPER_LINE = /^\s*(<\?xml|<\/?Events\b|<!--)/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  htmlEntities: true,
  trimValues: false,
  isArray: (name) => name === 'Data',
});

function findOpen(s: string, from: number): number {
  const m = EVENT_OPEN.exec(s.slice(from));
  return m ? m.index + from : -1;
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  const o = obj(v);
  return o && o['#text'] !== undefined ? String(o['#text']) : '';
}

function attr(v: unknown, name: string): string | undefined {
  const o = obj(v);
  const a = o?.[`@${name}`];
  return typeof a === 'string' ? a : undefined;
}

/** The parsed <Event> element as a WinRecord, or null when it lacks System/EventID. */
export function winRecordFromXml(ev: Record<string, unknown>, line: number): WinRecord | null {
  const sys = obj(ev.System);
  if (!sys) return null;
  const eventId = int(textOf(sys.EventID).trim(), 0xffff);
  if (eventId === undefined) return null;
  const data: Record<string, string> = {};
  const eventData = obj(ev.EventData);
  const items = Array.isArray(eventData?.Data) ? eventData.Data : [];
  items.forEach((item: unknown, i: number) => {
    data[attr(item, 'Name') ?? `Data${i}`] = textOf(item);
  });
  // UserData holds one provider-defined element (EventXML for TerminalServices 1149).
  const userData = obj(ev.UserData);
  const inner = userData ? obj(Object.values(userData)[0]) : undefined;
  for (const [k, v] of Object.entries(inner ?? {})) {
    if (!k.startsWith('@') && k !== '#text') data[k] = textOf(v);
  }
  return {
    provider: attr(sys.Provider, 'Name') ?? '',
    channel: textOf(sys.Channel),
    eventId,
    time: toSeconds(attr(sys.TimeCreated, 'SystemTime') ?? ''),
    computer: textOf(sys.Computer) || undefined,
    execPid: int(attr(sys.Execution, 'ProcessID')),
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
    if (XMLValidator.validate(text) !== true) {
      this.malformed++;
      return [];
    }
    let root: Record<string, unknown> | undefined;
    try {
      root = obj((parser.parse(text) as Record<string, unknown>).Event);
    } catch {
      root = undefined;
    }
    const rec = root ? winRecordFromXml(root, this.startLine) : null;
    if (!rec) {
      this.malformed++;
      return [];
    }
    return mapWindowsRecord(rec);
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
