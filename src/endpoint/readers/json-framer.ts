// Frames JSON values out of line input for the JSON-shaped formats. Agents write one object
// per line (NDJSON), but exports and test fixtures are often one pretty-printed document or
// one array of events; both arrive here line by line. The framer tracks bracket depth outside
// strings, hands each complete top-level value to JSON.parse, and splits a top-level array
// into its elements as they complete, so a long array never has to be held whole.

/** Most characters one buffered value may take before it is dropped as malformed. */
export const MAX_JSON_RECORD_CHARS = 4 * 1024 * 1024;

export interface FramedValue {
  value: unknown;
  /** 1-based line where the value started. */
  line: number;
}

export class JsonFramer {
  malformed = 0;
  private buf = '';
  private startLine = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Inside a top-level array whose elements are framed one by one. */
  private inArray = false;
  /** A value too long or broken: skip characters until depth returns to the frame level. */
  private discarding = false;

  /** 'ndjson' once a whole value was seen on one line: from then on every line stands alone. */
  private mode: 'unknown' | 'ndjson' | 'document' = 'unknown';

  push(line: string, lineNo: number): FramedValue[] {
    const out: FramedValue[] = [];
    if (this.mode !== 'document' && this.buf === '' && this.depth === 0 && !this.inArray) {
      const t = line.trim();
      if (t === '') return out;
      if (t.startsWith('{') || t.startsWith('[')) {
        try {
          out.push({ value: JSON.parse(t), line: lineNo });
          this.mode = 'ndjson';
          return out;
        } catch {
          // a value spread over lines (document mode) or a broken NDJSON line
        }
      }
      if (this.mode === 'ndjson') {
        // One bad line never swallows the next good one.
        this.malformed++;
        return out;
      }
    }
    if (this.depth > (this.inArray ? 1 : 0) && this.recover(line, lineNo, out)) return out;
    this.scan(line + '\n', lineNo, out);
    if (this.depth > 0) this.mode = 'document';
    return out;
  }

  /**
   * A whole object at column 0 while a value is still open: the open one was truncated (an
   * agent killed mid-write, a cut first line) and this line starts over. Without this, every
   * NDJSON line after a truncated one nested into the open value and was lost with it. Pretty
   * printers indent nested values, so a complete object at column 0 is never inside one.
   */
  private recover(line: string, lineNo: number, out: FramedValue[]): boolean {
    if (!line.startsWith('{')) return false;
    const t = line.trimEnd();
    let value: unknown;
    try {
      value = JSON.parse(t.endsWith(',') ? t.slice(0, -1) : t);
    } catch {
      return false;
    }
    if (!this.discarding) this.malformed++; // (an overflowing value was counted already)
    this.reset();
    out.push({ value, line: lineNo });
    if (!this.inArray) this.mode = 'ndjson';
    return true;
  }

  /** At end of input whatever is still open is a truncated value. */
  end(): FramedValue[] {
    if (this.buf.trim() !== '' || this.discarding) this.malformed++;
    this.reset();
    this.inArray = false;
    return [];
  }

  private reset(): void {
    this.buf = '';
    this.depth = this.inArray ? 1 : 0;
    this.inString = false;
    this.escaped = false;
    this.discarding = false;
  }

  private scan(text: string, lineNo: number, out: FramedValue[]): void {
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      const base = this.inArray ? 1 : 0;
      if (this.depth === base && !this.discarding) {
        // Between values: separators, whitespace, or the array's own brackets.
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',') {
          from = i + 1;
          continue;
        }
        if (c === '[' && !this.inArray) {
          this.inArray = true;
          this.depth = 1;
          from = i + 1;
          continue;
        }
        if (c === ']' && this.inArray) {
          this.inArray = false;
          this.depth = 0;
          from = i + 1;
          continue;
        }
        if (c !== '{' && c !== '[') {
          // Garbage between values (a log prefix, a stray word): count the line once.
          this.malformed++;
          this.buf = '';
          return;
        }
        this.startLine = lineNo;
        from = i;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        // (A closer at the frame level never gets here: it is garbage between values.)
        if (this.depth === base) {
          this.finish(this.buf + text.slice(from, i + 1), out);
          from = i + 1;
        }
      }
    }
    if (this.depth > (this.inArray ? 1 : 0) || this.inString) {
      if (!this.discarding) this.buf += text.slice(from);
      if (this.buf.length > MAX_JSON_RECORD_CHARS) {
        this.malformed++;
        this.discarding = true;
        this.buf = '';
      }
    }
  }

  private finish(text: string, out: FramedValue[]): void {
    const wasDiscarding = this.discarding;
    this.buf = '';
    this.discarding = false;
    if (wasDiscarding) return; // already counted when it overflowed
    try {
      out.push({ value: JSON.parse(text), line: this.startLine });
    } catch {
      this.malformed++;
    }
  }
}

/**
 * The events inside a parsed value: wrappers seen in exports and fixtures are opened
 * ({"events": [...]} from Elastic pipeline tests, [{"test_name", "event"}] from go-libaudit).
 */
export function unwrapJson(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.events) && Object.keys(o).length === 1) return o.events;
    if (typeof o.test_name === 'string' && o.event && typeof o.event === 'object') return [o.event];
  }
  return [value];
}
