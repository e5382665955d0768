// Windows event records as the Rust `evtx_dump -o json|jsonl` renders them: {"Event":
// {"System": {...,"#attributes"}, "EventData": {flat name: value}}} with numbers kept as
// numbers. Each record becomes a WinRecord and is mapped like the XML rendering.

import { JsonReader, jsonText } from './json-reader';
import { registerReader } from './reader';
import { int, obj, toSeconds } from './util';
import { mapWindowsRecord, type WinRecord } from './windows-event';

function attrs(v: unknown): Record<string, unknown> {
  return obj(obj(v)?.['#attributes']) ?? {};
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const o = obj(v);
  return o && o['#text'] !== undefined ? text(o['#text']) : '';
}

function flatten(src: Record<string, unknown> | undefined, into: Record<string, string>): void {
  for (const [k, v] of Object.entries(src ?? {})) {
    if (k !== '#attributes') into[k] = text(v);
  }
}

export function winRecordFromEvtxJson(o: Record<string, unknown>, line: number): WinRecord | null {
  const ev = obj(o.Event);
  const sys = obj(ev?.System);
  if (!ev || !sys) return null;
  const eventId = int(text(sys.EventID), 0xffff);
  if (eventId === undefined) return null;
  const data: Record<string, string> = {};
  flatten(obj(ev.EventData), data);
  const userData = obj(ev.UserData);
  flatten(userData ? obj(Object.values(userData)[0]) : undefined, data);
  return {
    provider: text(attrs(sys.Provider).Name),
    channel: text(sys.Channel),
    eventId,
    time: toSeconds(attrs(sys.TimeCreated).SystemTime),
    computer: text(sys.Computer) || undefined,
    execPid: int(attrs(sys.Execution).ProcessID),
    data,
    line,
  };
}

registerReader(
  'evtx-json',
  (lines) => {
    const t = jsonText(lines);
    return t !== null && /"Event"\s*:/.test(t) && /"(System|EventData|#attributes)"/.test(t)
      ? 0.95
      : 0;
  },
  () =>
    new JsonReader('evtx-json', (o, line) => {
      const rec = winRecordFromEvtxJson(o, line);
      return rec ? mapWindowsRecord(rec) : null;
    }),
);
