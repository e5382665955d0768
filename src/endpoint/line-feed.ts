// Text in, endpoint events out, shared by every source (file, follow, listener): splits bytes
// into lines with a length cap, picks the reader from the first lines (or the format given),
// counts what could not be used. A line that no reader claims before the format is known is
// malformed, never fatal; so is any line over the cap.

import { EndpointEvent } from './event';
import { createReader, detectFormat, EndpointReader } from './readers';
import { DETECT_LINES } from './readers/reader';

/** Longest line accepted (a Sysmon event rendered on one line is a few KB). */
export const MAX_LINE_BYTES = 64 * 1024;

export interface FeedCounts {
  events: number;
  /** Lines no reader could use, plus the readers' own malformed counts. */
  malformed: number;
  format: string | null;
}

/** A line that only opens a JSON export: '[', '{', '{"events": ['. */
const JSON_OPENER = /^\s*(\[|\{(\s*"[^"]*"\s*:\s*\[)?)\s*$/;

/**
 * Where the input starts given the first line a reader claimed: the JSON openers right
 * before it belong to the document. Skipped as garbage, they left the closing ']' to be
 * counted malformed too, so a clean export reported two malformed lines.
 */
export function documentStart(lines: string[], claimed: number): number {
  let start = claimed;
  while (start > 0 && (lines[start - 1].trim() === '' || JSON_OPENER.test(lines[start - 1]))) {
    start--;
  }
  return start;
}

export type MalformedHook = (lineNo: number, why: string) => void;

export class LineFeed {
  private reader: EndpointReader | null = null;
  private rest = '';
  private skipping = false;
  private lineNo = 0;
  private rejected = 0;
  private events = 0;
  private readonly early: Array<{ text: string; no: number }> = [];

  constructor(private readonly emit: (e: EndpointEvent) => void,
    private readonly onMalformed: MalformedHook = () => {}, format?: string) {
    if (format !== undefined) this.reader = createReader(format);
  }

  /** Lines read so far (the last one without its newline included, once ended). */
  get lines(): number {
    return this.lineNo;
  }

  get counts(): FeedCounts {
    return {
      events: this.events,
      malformed: this.rejected + (this.reader?.malformed ?? 0),
      format: this.reader?.format ?? null,
    };
  }

  /** A chunk of text (any split: lines may span chunks). */
  write(chunk: string): void {
    let text = this.rest + chunk;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      let line = text.slice(0, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      text = text.slice(nl + 1);
      if (this.skipping) this.skipping = false; // the tail of an over-long line
      else this.line(line);
      nl = text.indexOf('\n');
    }
    if (text.length > MAX_LINE_BYTES) {
      // counted once, however many chunks the line spans before its newline
      if (!this.skipping) {
        this.lineNo++;
        this.rejected++;
        this.onMalformed(this.lineNo, `line longer than ${MAX_LINE_BYTES} characters`);
        this.skipping = true;
      }
      text = '';
    } else if (this.skipping) {
      text = ''; // more of the over-long line, still without its newline
    }
    this.rest = text;
  }

  /** End of the input: the last line without newline, then what the reader still holds. */
  end(): void {
    if (this.rest !== '' && !this.skipping) this.line(this.rest);
    this.rest = '';
    if (this.reader === null && this.early.length > 0) this.detect();
    if (this.reader !== null) {
      const before = this.reader.malformed;
      for (const e of this.reader.end()) this.out(e);
      if (this.reader.malformed > before) this.onMalformed(this.lineNo, 'truncated at the end');
    }
  }

  private line(line: string): void {
    this.lineNo++;
    if (this.reader !== null) {
      this.push(this.reader, line, this.lineNo);
      return;
    }
    if (line.trim() === '') return;
    this.early.push({ text: line, no: this.lineNo });
    if (this.early.length >= DETECT_LINES || detectFormat([line]) !== null) this.detect();
  }

  /** Pick the reader from the lines held; lines before the first claimed one are malformed. */
  private detect(): void {
    const held = this.early.splice(0);
    const lines = held.map((h) => h.text);
    // Garbage before the first line a reader claims on its own is skipped and kept out of
    // the detection; a format known only from several lines together (XML) starts at the
    // first line.
    const claimed = lines.findIndex((l) => detectFormat([l]) !== null);
    const fmt = claimed >= 0 ? detectFormat(lines.slice(claimed)) ??
      detectFormat([lines[claimed]]) : detectFormat(lines);
    let start = lines.length;
    if (fmt !== null) {
      this.reader = createReader(fmt);
      start = documentStart(lines, Math.max(0, claimed));
    }
    for (let i = 0; i < start; i++) {
      this.rejected++;
      this.onMalformed(held[i].no, 'no endpoint format recognises this line');
    }
    if (this.reader === null) return;
    for (let i = start; i < held.length; i++) this.push(this.reader, held[i].text, held[i].no);
  }

  /**
   * One line into the reader. What the reader counts malformed is reported with the line
   * number too: only the lines before detection were, so a bad line in the middle of a feed
   * was counted in the summary but could not be found in the debug log.
   */
  private push(reader: EndpointReader, text: string, no: number): void {
    const before = reader.malformed;
    for (const e of reader.push(text, no)) this.out(e);
    if (reader.malformed > before) {
      this.onMalformed(no, `the ${reader.format} reader could not use this line`);
    }
  }

  private out(e: EndpointEvent): void {
    this.events++;
    this.emit(e);
  }
}
