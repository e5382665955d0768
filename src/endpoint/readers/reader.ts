// The reader contract for endpoint telemetry: one reader per input format, fed one line at a
// time, returning normalised EndpointEvents. Formats register themselves (see ./index.ts,
// which imports every built-in reader); detection picks the format from the first lines.
//
// Import `./index` (not this file) when you need the built-in formats registered.

import type { EndpointEvent } from '../event';

export interface EndpointReader {
  /** 'ecs' | 'sysmon-xml' | 'winsec-xml' | 'evtx-json' | 'auditd' | 'osquery' | ... */
  readonly format: string;
  /** One input line (without its newline); multi-line formats buffer until a record ends. */
  push(line: string, lineNo: number): EndpointEvent[];
  /** Flush whatever is buffered at end of input (a truncated record counts as malformed). */
  end(): EndpointEvent[];
  /** Lines or records skipped because they could not be read. */
  readonly malformed: number;
}

export type ReaderFactory = () => EndpointReader;

/** Returns a confidence 0..1 that firstLines are in this format. */
export type FormatDetector = (firstLines: string[]) => number;

/** How many non-empty lines detection looks at. */
export const DETECT_LINES = 50;
/** Below this confidence no format is chosen. */
export const MIN_DETECT_CONFIDENCE = 0.3;

interface Registration {
  detect: FormatDetector;
  make: ReaderFactory;
}

const registry = new Map<string, Registration>();

export function registerReader(format: string, detect: FormatDetector, make: ReaderFactory): void {
  registry.set(format, { detect, make });
}

export function knownFormats(): string[] {
  return [...registry.keys()].sort();
}

/** The registered format with the highest confidence, or null when none reaches the floor. */
export function detectFormat(firstLines: string[]): string | null {
  const lines = firstLines.filter((l) => l.trim() !== '').slice(0, DETECT_LINES);
  if (lines.length === 0) return null;
  let best: string | null = null;
  let bestScore = MIN_DETECT_CONFIDENCE;
  for (const [format, reg] of registry) {
    let score = 0;
    try {
      score = reg.detect(lines);
    } catch {
      score = 0; // a detector must never stop detection of the others
    }
    if (score > bestScore) {
      best = format;
      bestScore = score;
    }
  }
  return best;
}

export function createReader(format: string): EndpointReader {
  const reg = registry.get(format);
  if (!reg) throw new Error(`unknown endpoint format '${format}' (known: ${knownFormats()})`);
  return reg.make();
}

/** The first DETECT_LINES non-empty lines of a text. */
export function firstLinesOf(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (out.length < DETECT_LINES && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    if (line.trim() !== '') out.push(line);
    start = end + 1;
  }
  return out;
}

/**
 * Parse a whole text. With no format given it is detected; when nothing matches, every
 * non-empty line counts as malformed and no event is returned.
 */
export function parseEndpointText(
  text: string,
  format?: string,
): { format: string | null; events: EndpointEvent[]; malformed: number } {
  const chosen = format ?? detectFormat(firstLinesOf(text));
  const lines = text.split('\n');
  if (chosen === null) {
    return { format: null, events: [], malformed: lines.filter((l) => l.trim()).length };
  }
  const reader = createReader(chosen);
  const events: EndpointEvent[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    for (const ev of reader.push(line, i + 1)) events.push(ev);
  }
  for (const ev of reader.end()) events.push(ev);
  return { format: chosen, events, malformed: reader.malformed };
}
