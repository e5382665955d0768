// The contract every SIEM sink keeps (syslog, HTTP bulk): documents go in without blocking
// the packet path; delivery, retry and spooling happen behind it.

/** What a document is, so each sink can take alerts, flow records or both. */
export type DocKind = 'alert' | 'flow';

export interface SinkStats {
  /** Documents the receiver accepted. */
  sent: number;
  /** Delivery attempts repeated after a failure. */
  retried: number;
  /** Documents written to the on-disk spool (receiver down or slow). */
  spooled: number;
  /** Documents lost: the spool was full and its oldest were dropped. Counted, never silent. */
  dropped: number;
  /** Documents waiting in memory right now. */
  queued: number;
  /**
   * The first error of the on-disk spool (disk full, a directory gone or not writable), when
   * there was one: what it cost is in `dropped`, and this says why.
   */
  spoolError?: string;
}

/**
 * One line of payload is one document, already serialised by the caller (ECS JSON). Each
 * carries a stable `event.id`, so a receiver can drop a retried duplicate.
 */
export interface Sink {
  readonly name: string;
  /** Take one document; never blocks and never throws. */
  push(json: string, kind: DocKind): void;
  /** Deliver what can be delivered within `timeoutMs`, spool the rest, release resources. */
  close(timeoutMs: number): Promise<void>;
  stats(): SinkStats;
}
