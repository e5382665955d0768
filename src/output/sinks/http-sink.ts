// HTTP bulk delivery to Elasticsearch/OpenSearch (`_bulk`) or Splunk HEC, behind the shared
// DeliveryQueue (batching, retry, spool). Plain global `fetch` (undici in Node 20) rather than
// the official Elasticsearch client: we call one endpoint with bodies we build ourselves, HEC
// is not something that client speaks, and it would be a large dependency for one POST.

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DeliveryOptions, DeliveryQueue, SendOutcome, Transport } from './delivery';
import type { Sink } from './sink';

const gzip = promisify(zlib.gzip);

/** One request may take this long; a hung receiver then counts as failing and is retried. */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000;
/** Index used when none is given (Elasticsearch/OpenSearch). */
export const DEFAULT_ES_INDEX = 'tunnelhound';
/** HEC metadata: lets Splunk searches tell alerts from flow records by sourcetype. */
const HEC_SOURCE = 'tunnelhound';

export interface HttpSinkOptions extends Partial<DeliveryOptions> {
  /** Base URL of the receiver; `/_bulk` or `/services/collector/event` is appended. */
  url: string;
  format: 'elasticsearch' | 'splunk';
  index?: string;
  /** Full Authorization header value; read from an env var or file by the CLI, never argv. */
  authHeader?: string;
  /** Gzip request bodies (default true): ECS JSON shrinks about tenfold. */
  gzip?: boolean;
  requestTimeoutMs?: number;
}

export class HttpSinkError extends Error {
  override readonly name = 'HttpSinkError';
  readonly code = 'ERR_SINK_OPTION';
}

/** A failed send; `retryable: false` tells the queue the batch can never succeed. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

/**
 * Retryable statuses: busy (429), server trouble (5xx) and auth refusals (401/403), since a
 * bad key is fixed by the operator and dropping every alert until then would be worse.
 */
function retryableStatus(status: number): boolean {
  return status === 429 || status >= 500 || status === 401 || status === 403;
}

interface ParsedDoc {
  line: string;
  doc: Record<string, unknown>;
}

/** Parses each line; a line that is not a JSON object cannot be sent and is dropped. */
function parseLines(lines: string[]): { docs: ParsedDoc[]; bad: number } {
  const docs: ParsedDoc[] = [];
  let bad = 0;
  for (const line of lines) {
    try {
      const doc: unknown = JSON.parse(line);
      if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
        docs.push({ line, doc: doc as Record<string, unknown> });
        continue;
      }
    } catch {
      // counted below
    }
    bad++;
  }
  return { docs, bad };
}

function eventField(doc: Record<string, unknown>, key: string): unknown {
  const event = doc.event;
  return event !== null && typeof event === 'object'
    ? (event as Record<string, unknown>)[key] : undefined;
}

/** `_bulk` body: `create` with the document's event.id, so a retried duplicate is refused. */
function bulkBody(docs: ParsedDoc[], index: string): string {
  let body = '';
  for (const { line, doc } of docs) {
    const id = eventField(doc, 'id');
    const action = typeof id === 'string' ? { _index: index, _id: id } : { _index: index };
    body += JSON.stringify({ create: action }) + '\n' + line + '\n';
  }
  return body;
}

/** Reads per-item results of a `_bulk` answer with `errors: true`. */
function bulkOutcome(docs: ParsedDoc[], answer: unknown, bad: number): SendOutcome {
  const items = (answer as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length !== docs.length) {
    // Cannot tell which went in: send all again; create + _id makes that safe.
    throw new DeliveryError('_bulk answer items do not match the request', true);
  }
  const outcome: SendOutcome = { dropped: bad, retry: [] };
  items.forEach((item: unknown, i) => {
    const result = (item as { create?: { status?: unknown } } | null)?.create;
    const status = typeof result?.status === 'number' ? result.status : 0;
    // 409: a document with this _id is already there (an earlier retry went in): delivered.
    if ((status >= 200 && status < 300) || status === 409) return;
    if (status === 429) outcome.retry.push(docs[i].line);
    else outcome.dropped++;
  });
  return outcome;
}

/** HEC event objects, concatenated: the form `/services/collector/event` takes in one POST. */
function hecBody(docs: ParsedDoc[]): string {
  let body = '';
  for (const { doc } of docs) {
    const ms = Date.parse(String(doc['@timestamp']));
    const sourcetype = eventField(doc, 'kind') === 'alert'
      ? 'tunnelhound:alert' : 'tunnelhound:flow';
    body += JSON.stringify({
      ...(Number.isFinite(ms) ? { time: ms / 1000 } : {}),
      sourcetype, source: HEC_SOURCE, event: doc,
    });
  }
  return body;
}

class HttpTransport implements Transport {
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: HttpSinkOptions) {
    const base = opts.url.replace(/\/+$/, '');
    this.endpoint = opts.format === 'elasticsearch'
      ? `${base}/_bulk` : `${base}/services/collector/event`;
    this.headers = {
      'content-type': opts.format === 'elasticsearch' ? 'application/x-ndjson'
        : 'application/json',
    };
    if (opts.authHeader !== undefined) this.headers.authorization = opts.authHeader;
    if (opts.gzip !== false) this.headers['content-encoding'] = 'gzip';
  }

  /** Aborts requests in flight when the sink closes. */
  private readonly shutdown = new AbortController();

  async send(lines: string[]): Promise<SendOutcome | void> {
    const { docs, bad } = parseLines(lines);
    if (docs.length === 0) return { dropped: bad, retry: [] };
    const es = this.opts.format === 'elasticsearch';
    const text = es ? bulkBody(docs, this.opts.index ?? DEFAULT_ES_INDEX) : hecBody(docs);
    const body = this.opts.gzip !== false ? await gzip(text) : text;

    let res: Response;
    let answer: string;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST', headers: this.headers, body,
        signal: AbortSignal.any([this.shutdown.signal,
          AbortSignal.timeout(this.opts.requestTimeoutMs ?? HTTP_REQUEST_TIMEOUT_MS)]),
      });
      answer = await res.text(); // read whole so the connection can be reused
    } catch (err) {
      // Refused, reset, DNS, timeout: the receiver may come back.
      throw new DeliveryError(`${this.endpoint}: ${(err as Error).message}`, true);
    }
    if (res.status < 200 || res.status >= 300) {
      throw new DeliveryError(`${this.endpoint}: HTTP ${res.status}`,
        retryableStatus(res.status));
    }
    if (!es) return { dropped: bad, retry: [] };

    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      throw new DeliveryError(`${this.endpoint}: _bulk answer is not JSON`, true);
    }
    if ((parsed as { errors?: unknown } | null)?.errors !== true) {
      return { dropped: bad, retry: [] };
    }
    return bulkOutcome(docs, parsed, bad);
  }

  async close(): Promise<void> {
    // The queue has spooled everything by now; a request still hanging on a silent receiver
    // must not hold the process past --delivery-timeout (it did, up to the 30 s timeout).
    this.shutdown.abort();
  }
}

export function createHttpSink(opts: HttpSinkOptions & { name?: string }): Sink {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new HttpSinkError(`--http ${opts.url}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HttpSinkError(`--http ${opts.url}: the scheme must be http or https`);
  }
  if (opts.format !== 'elasticsearch' && opts.format !== 'splunk') {
    throw new HttpSinkError(`--http-format ${String(opts.format)}: use elasticsearch or splunk`);
  }
  const name = opts.name ?? `http-${opts.format}`;
  return new DeliveryQueue(new HttpTransport(opts), { ...opts, name });
}
