// `tunnelhound endpoint parse FILE`: reads an endpoint telemetry file (or standard input),
// detects its format unless --format names one, and prints the normalised EndpointEvents as
// NDJSON on standard output, with a one-line summary on standard error. Meant for checking
// a feed before pointing the sensor at it.

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import {
  DETECT_LINES,
  createReader,
  detectFormat,
  knownFormats,
  type EndpointReader,
} from '../endpoint/readers/index';
import type { EndpointEvent } from '../endpoint/event';
import { documentStart, MAX_LINE_BYTES } from '../endpoint/line-feed';
import { OutputError } from '../output/ndjson-writer';
import { UsageError } from './errors';
import type { Logger } from './log';

export interface EndpointParseOptions {
  file: string;
  format?: string;
  out: Writable;
  err: Writable;
  log: Logger;
}

export interface EndpointParseSummary {
  format: string | null;
  events: number;
  malformed: number;
  lines: number;
}

function openInput(file: string): NodeJS.ReadableStream {
  if (file === '-') return process.stdin;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (fs.statSync(file).isDirectory()) throw new Error('is a directory');
  } catch (e) {
    throw new UsageError(`cannot read endpoint file ${file}: ${(e as Error).message}`);
  }
  return fs.createReadStream(file);
}

/**
 * The lines of the input as the sensor's feed splits them (line-feed.ts): at '\n', a trailing
 * '\r' dropped, a line longer than MAX_LINE_BYTES given as null (once) and its bytes dropped,
 * so a file without newlines cannot grow one string past what V8 allows.
 */
async function* cappedLines(input: NodeJS.ReadableStream): AsyncGenerator<string | null> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let skipping = false;
  const cut = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);
  for await (const chunk of input) {
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (skipping) skipping = false; // the tail of an over-long line
      else yield cut(line);
      nl = text.indexOf('\n');
    }
    if (text.length > MAX_LINE_BYTES) {
      if (!skipping) yield null;
      skipping = true;
      text = '';
    } else if (skipping) {
      text = '';
    }
    rest = text;
  }
  rest += decoder.end();
  if (rest !== '' && !skipping) yield cut(rest);
}

export async function endpointParse(o: EndpointParseOptions): Promise<EndpointParseSummary> {
  if (o.format !== undefined && !knownFormats().includes(o.format)) {
    throw new UsageError(`--format ${o.format} is not a known endpoint format ` +
      `(known: ${knownFormats().join(', ')})`);
  }
  const input = openInput(o.file);
  const lines = cappedLines(input);
  let tooLong = 0;
  const summary: EndpointParseSummary = { format: o.format ?? null, events: 0, malformed: 0,
    lines: 0 };
  let reader: EndpointReader | null = o.format ? createReader(o.format) : null;
  // Lines held back until detection has seen DETECT_LINES non-empty ones.
  const held: string[] = [];
  let nonEmpty = 0;

  // A closed reader (`| head`) surfaces as an 'error' event; it ends the run quietly.
  let outErr: NodeJS.ErrnoException | null = null;
  o.out.on('error', (e: NodeJS.ErrnoException) => {
    outErr ??= e;
  });
  const write = async (events: EndpointEvent[]): Promise<void> => {
    for (const ev of events) {
      if (outErr) throw new OutputError('endpoint events', '-', outErr);
      summary.events++;
      if (!o.out.write(JSON.stringify(ev) + '\n')) {
        await once(o.out, 'drain').catch((e: NodeJS.ErrnoException) => (outErr ??= e));
      }
    }
  };
  const feed = async (line: string, lineNo: number): Promise<void> => {
    const r = reader as EndpointReader;
    const before = r.malformed;
    const events = r.push(line, lineNo);
    if (r.malformed > before) o.log.debug({ line: lineNo, format: r.format }, 'malformed input');
    await write(events);
  };
  // Lines before the first one a reader claims on its own are skipped (counted malformed)
  // and kept out of detection, as the sensor's feed does (endpoint/line-feed.ts).
  let skipped = 0;
  let heldFrom = 1; // line number of held[0]
  let firstLine: string | undefined;
  const decide = async (final: boolean): Promise<void> => {
    firstLine ??= held.find((l) => l.trim() !== '');
    const claimed = held.findIndex((l) => l.trim() !== '' && detectFormat([l]) !== null);
    const from = claimed >= 0 ? held.slice(claimed) : held;
    const format = detectFormat(from.filter((l) => l.trim() !== '')) ??
      (claimed >= 0 ? detectFormat([held[claimed]]) : null);
    if (format === null && !final) {
      // DETECT_LINES lines no reader knows: garbage, as the sensor's feed counts them; it
      // goes on detecting in the lines after them, and so does this check of a feed (it gave
      // up here, on a file the sensor would have read).
      const n = held.filter((l) => l.trim() !== '').length;
      skipped += n;
      o.log.debug({ lines: n, from: heldFrom }, 'lines no endpoint format recognises');
      heldFrom += held.length;
      held.length = 0;
      nonEmpty = 0;
      return;
    }
    if (format === null) {
      if (firstLine?.startsWith('ElfFile\u0000')) {
        throw new UsageError(`${o.file} is a Windows EVTX binary; render it as XML first ` +
          '(wevtutil qe /f:xml, evtx_dump) and parse that');
      }
      if (firstLine !== undefined) {
        throw new UsageError(`cannot tell the format of ${o.file}; name it with --format ` +
          `(known: ${knownFormats().join(', ')})`);
      }
      return;
    }
    summary.format = format;
    reader = createReader(format);
    const start = documentStart(held, Math.max(0, claimed));
    const n = held.slice(0, start).filter((l) => l.trim() !== '').length;
    skipped += n;
    if (n > 0) o.log.debug({ lines: n }, 'lines before the first event skipped');
    for (let i = start; i < held.length; i++) await feed(held[i], heldFrom + i);
    held.length = 0;
  };

  for await (const line of lines) {
    summary.lines++;
    if (line === null) {
      tooLong++;
      o.log.debug({ line: summary.lines }, `line longer than ${MAX_LINE_BYTES} characters`);
      if (!reader) held.push(''); // keeps the line numbers of the held lines
      continue;
    }
    if (reader) {
      await feed(line, summary.lines);
      continue;
    }
    held.push(line);
    if (line.trim() !== '') nonEmpty++;
    if (nonEmpty >= DETECT_LINES) await decide(false);
  }
  if (!reader) await decide(true);
  if (reader) {
    const r = reader as EndpointReader;
    await write(r.end());
  }
  summary.malformed = skipped + tooLong + (reader ? (reader as EndpointReader).malformed : 0);
  o.err.write(`endpoint parse: format=${summary.format ?? 'none'} events=${summary.events} ` +
    `malformed=${summary.malformed} lines=${summary.lines}\n`);
  return summary;
}
