// Shared shape of the JSON-based readers (ECS, evtx_dump JSON, OCSF, osquery, eslogger):
// the JsonFramer cuts values out of the lines, wrappers are opened, and each value is mapped
// by the format's function. A value that is not an object, or whose mapping throws on a
// wrong-typed field, is counted as malformed; a well-formed value that carries no endpoint
// fact (a registry read, a CONFIG_CHANGE record) simply yields nothing.

import type { EndpointEvent } from '../event';
import { JsonFramer, unwrapJson } from './json-framer';
import type { EndpointReader } from './reader';
import { obj } from './util';

/** Maps one JSON object; returns null when the object is not a record of this format. */
export type JsonMapper = (o: Record<string, unknown>, line: number) => EndpointEvent[] | null;

export class JsonReader implements EndpointReader {
  private framer = new JsonFramer();
  private bad = 0;

  constructor(
    readonly format: string,
    private readonly map: JsonMapper,
  ) {}

  get malformed(): number {
    return this.framer.malformed + this.bad;
  }

  push(line: string, lineNo: number): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    for (const framed of this.framer.push(line, lineNo)) {
      for (const item of unwrapJson(framed.value)) this.mapOne(item, framed.line, out);
    }
    return out;
  }

  end(): EndpointEvent[] {
    this.framer.end();
    return [];
  }

  private mapOne(item: unknown, line: number, out: EndpointEvent[]): void {
    const o = obj(item);
    if (!o) {
      this.bad++;
      return;
    }
    let events: EndpointEvent[] | null;
    try {
      events = this.map(o, line);
    } catch {
      events = null; // a field of an unexpected type deep inside: count, never stop
    }
    if (events === null) this.bad++;
    else for (const ev of events) out.push(ev);
  }
}

/** The first DETECT_LINES lines as one text, for key-name detection of JSON formats. */
export function jsonText(lines: string[]): string | null {
  const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  return first.startsWith('{') || first.startsWith('[') ? lines.join('\n') : null;
}

/** A string array from a JSON value, dropping anything that is not a string. */
export function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
