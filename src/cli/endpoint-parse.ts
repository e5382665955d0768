// `tunnelhound endpoint parse FILE`: reads an endpoint telemetry file (or standard input),
// detects its format unless --format names one, and prints the normalised EndpointEvents as
// NDJSON on standard output, with a one-line summary on standard error. Meant for checking
// a feed before pointing the sensor at it.

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { knownFormats } from '../endpoint/readers/index';
import type { EndpointEvent } from '../endpoint/event';
import { LineFeed } from '../endpoint/line-feed';
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

/** The first bytes of a Windows EVTX file ("ElfFile" and a NUL). */
const EVTX_MAGIC = 'ElfFile\u0000';

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

export async function endpointParse(o: EndpointParseOptions): Promise<EndpointParseSummary> {
  if (o.format !== undefined && !knownFormats().includes(o.format)) {
    throw new UsageError(`--format ${o.format} is not a known endpoint format ` +
      `(known: ${knownFormats().join(', ')})`);
  }
  const input = openInput(o.file);
  // The sensor's own line feed does the splitting, the detection and the counting, so this
  // check of a feed reads it exactly as `--endpoint` and `--endpoint-follow` will.
  const pending: EndpointEvent[] = [];
  const feed = new LineFeed((e) => pending.push(e),
    (line, why) => o.log.debug({ line }, why), o.format);

  // A closed reader (`| head`) surfaces as an 'error' event; it ends the run quietly.
  let outErr: NodeJS.ErrnoException | null = null;
  o.out.on('error', (e: NodeJS.ErrnoException) => {
    outErr ??= e;
  });
  let events = 0;
  const flush = async (): Promise<void> => {
    for (const ev of pending.splice(0)) {
      if (outErr) throw new OutputError('endpoint events', '-', outErr);
      events++;
      if (!o.out.write(JSON.stringify(ev) + '\n')) {
        await once(o.out, 'drain').catch((e: NodeJS.ErrnoException) => (outErr ??= e));
      }
    }
  };

  const decoder = new StringDecoder('utf8');
  let head = '';
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    if (head.length < EVTX_MAGIC.length) head += text.slice(0, EVTX_MAGIC.length);
    feed.write(text);
    await flush();
  }
  feed.write(decoder.end());
  feed.end();
  await flush();

  const c = feed.counts;
  if (c.format === null && c.malformed > 0) {
    // Nothing a reader knows: say so, rather than print nothing and exit 0.
    if (head.startsWith(EVTX_MAGIC)) {
      throw new UsageError(`${o.file} is a Windows EVTX binary; render it as XML first ` +
        '(wevtutil qe /f:xml, evtx_dump) and parse that');
    }
    throw new UsageError(`cannot tell the format of ${o.file}; name it with --format ` +
      `(known: ${knownFormats().join(', ')})`);
  }
  const summary: EndpointParseSummary = { format: c.format, events, malformed: c.malformed,
    lines: feed.lines };
  o.err.write(`endpoint parse: format=${summary.format ?? 'none'} events=${summary.events} ` +
    `malformed=${summary.malformed} lines=${summary.lines}\n`);
  return summary;
}
